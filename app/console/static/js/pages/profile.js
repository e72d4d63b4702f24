import { $, ApiError, api, factRows, formData, h, languageNames, say, showProblem, t, lang, zoneName } from '../core.js';
import { takeLanguages } from '../languages.js';

// The zone her notifications use (quiet hours, times in messages), by its name, and where it
// comes from: her own choice, her specialist profile, her facility, or none yet (UTC). Not
// this browser's zone: the footer names that one, the zone the pages' times are shown in.
async function notificationZone() {
  try {
    const p = await api('/me/notification-preferences');
    // By its name, as the footer says it; the id for whoever needs it.
    return h('span', { title: p.timezone, text: `${zoneName(p.timezone)} (${t(`profile.zone_${p.timezone_source}`)})` });
  } catch {
    return t('profile.zone_unread');
  }
}

export default async function profile(main) {
  const [me, zone] = await Promise.all([api('/me'), notificationZone()]);
  const facts = [
    [t('field.name'), me.name], [t('field.email'), me.email], [t('field.role'), t(`role.${me.role}`)],
    [t('profile.zone'), zone], [t('app.language'), languageNames([lang])],
  ];
  if (me.organization_id) {
    const org = await api(`/organizations/${me.organization_id}`).catch(() => null);
    if (org) facts.push([t('field.organization'), org.name]);
  }
  $('#me', main).replaceChildren(...factRows(facts));

  // An interpreter says which languages she interprets: whoever adds an interpreter to a
  // case sees them in the picker, those who speak the case's languages first.
  if (me.role === 'interpreter') {
    const langs = $('#languages-form', main);
    const problem = $('#languages-problem', main);
    langs.languages.value = (me.languages || []).join(', ');
    takeLanguages(langs.languages); // named under the field
    $('#languages', main).hidden = false;
    langs.addEventListener('input', () => { problem.hidden = true; });
    langs.addEventListener('submit', async (e) => {
      e.preventDefault();
      problem.hidden = true;
      takeLanguages(langs.languages); // names typed, sent as their codes
      try {
        const saved = await api(`/users/${me.id}`, { method: 'PATCH', json: { languages: formData(langs).languages } });
        langs.languages.value = saved.languages.join(', '); // as kept: "QU" reads "qu"
        takeLanguages(langs.languages);
        say(t('profile.languages_saved'));
      } catch (err) {
        if (err instanceof ApiError) showProblem(langs, err, problem, { beside: true });
        else say(t('error.offline'), 'error');
      }
    });
  }

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

  // A new calendar link retires the old one at once (calendar apps subscribed to it stop
  // updating): asked first; then the new link, to copy, and said replaced.
  const url = $('#calendar-url', main);
  $('#calendar-token', main).addEventListener('click', async () => {
    if (!confirm(t('profile.calendar_confirm'))) return;
    let res;
    try {
      res = await api('/me/calendar-token', { json: {} });
    } catch (err) {
      // Refused: nothing changed. No answer: it may have been made, so it is not said kept.
      say(err instanceof ApiError ? `${t('profile.calendar_failed')} ${err.message}` : t('profile.calendar_no_answer'), 'error');
      return;
    }
    url.value = `${location.origin}${res.feed_path}`;
    $('#calendar-new', main).hidden = false;
    say(t('profile.calendar_replaced'));
    url.focus();
    url.select();
  });
  $('#calendar-copy', main).addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url.value); // a secure context only (https, localhost)
      say(t('profile.link_copied'));
    } catch {
      url.focus();
      url.select();
      let copied = false;
      try { copied = document.execCommand('copy'); } catch { /* no clipboard here */ }
      say(copied ? t('profile.link_copied') : t('profile.copy_failed'), copied ? 'info' : 'error');
    }
  });
}
