import { $, api, h, say, session, t } from '../core.js';

export default async function facility(main) {
  const orgId = session.me.organization_id;
  if (!orgId) { $('#facility', main).append(h('p', { text: t('facility.none') })); return; }
  const org = await api(`/organizations/${orgId}`);
  $('#facility', main).replaceChildren(
    h('dt', { text: t('field.name') }), h('dd', { text: org.name }),
    h('dt', { text: t('field.country') }), h('dd', { text: org.country }),
    h('dt', { text: t('field.timezone') }), h('dd', { text: org.timezone }),
    h('dt', { text: t('field.languages') }), h('dd', { text: org.languages.join(', ') }));
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
