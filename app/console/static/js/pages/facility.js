import { $, api, factRows, h, say, session, t } from '../core.js';

export default async function facility(main) {
  const orgId = session.me.organization_id;
  if (!orgId) { $('#facility', main).append(h('p', { text: t('facility.none') })); return; }
  const org = await api(`/organizations/${orgId}`);
  $('#facility', main).replaceChildren(...factRows([
    [t('field.name'), org.name],
    [t('field.country'), org.country],
    [t('field.timezone'), org.timezone],
    [t('field.languages'), org.languages.join(', ')],
  ]));
  const form = $('#resources-form', main);
  form.text.value = org.local_resources?.text || '';
  form.tags.value = (org.local_resources?.tags || []).join(', ');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/organizations/${orgId}`, {
        method: 'PATCH',
        json: { local_resources: {
          text: form.text.value,
          tags: form.tags.value.split(',').map((s) => s.trim()).filter(Boolean),
        } },
      });
      say(t('saved'));
    } catch (err) { say(err.message, 'error'); }
  });
}
