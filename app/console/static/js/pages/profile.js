import { $, api, factRows, languageNames, say, t, tz, lang } from '../core.js';

export default async function profile(main) {
  const me = await api('/me');
  const facts = [
    [t('field.name'), me.name], [t('field.email'), me.email], [t('field.role'), t(`role.${me.role}`)],
    [t('app.timezone'), tz], [t('app.language'), languageNames([lang])],
  ];
  if (me.organization_id) {
    const org = await api(`/organizations/${me.organization_id}`).catch(() => null);
    if (org) facts.push([t('field.organization'), org.name]);
  }
  $('#me', main).replaceChildren(...factRows(facts));

  const form = $('#password-form', main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/me/password', {
        json: { current_password: form.current_password.value, new_password: form.new_password.value },
      });
      location.assign('/signin?password_changed=1'); // a change ends every session, this one too
    } catch (err) {
      say(err.status === 404 ? t('error.not_available') : err.message, 'error');
    }
  });

  $('#calendar-token', main).addEventListener('click', async () => {
    const res = await api('/me/calendar-token', { json: {} });
    $('#calendar-url', main).textContent = `${location.origin}${res.feed_path}`;
  });
}
