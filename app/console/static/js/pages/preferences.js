// The in-app notifications (reached from the navigation), then the notification
// preferences: per kind her role can be sent, the channels; quiet hours in her zone; the
// language of notifications. The notifications API may not be deployed yet: the page says so.
import { $, ApiError, api, fmt, h, label, lang, languageName, say, showProblem, t, tz, zoneChoices, zoneName } from '../core.js';

const CHANNELS = ['email', 'push', 'sms', 'in_app'];
// Kinds she must act on within minutes (an emergency's offer lapses fast): with no channel
// outside the console that can reach her, her row says she hears of them only there.
const URGENT = new Set(['offer', 'offer_expiring']);
const has = (v, ch) => (Array.isArray(v) ? v.includes(ch) : !!v?.[ch]);
// Why a call failed, in her words: the service's refusal, else the link.
const why = (err) => (err instanceof ApiError ? err.message : t('error.offline'));

export default async function preferences(main) {
  const listed = notifications(main); // never throws: a failure is said in the list
  try {
    await settings(main);
  } finally {
    await listed;
  }
}

async function notifications(main) {
  const list = $('#notification-list', main);
  const error = $('#notifications-error', main);
  const count = $('#unread-count', main);
  const readAll = $('#read-all', main);
  async function load() {
    let res;
    try {
      res = await api('/notifications?limit=50');
    } catch (err) {
      // Offline or a slow link that gave up: said so, never "No notifications".
      $('#notifications-error-text', main).textContent = `${t('prefs.notifications_failed')} ${why(err)}`;
      error.hidden = false;
      list.querySelector('.none')?.remove();
      return;
    }
    error.hidden = true;
    list.replaceChildren(...res.items.map((n) => h('li', { class: n.read_at ? 'muted' : '' },
      h('time', { datetime: n.created_at, text: fmt(n.created_at) }), ' · ',
      n.link ? h('a', { href: new URL(n.link, location.href).pathname, text: n.subject }) : n.subject)));
    if (!res.items.length) list.append(h('li', { class: 'muted none', text: t('prefs.no_notifications') }));
    const unread = res.items.filter((n) => !n.read_at).length;
    count.textContent = t('prefs.unread', { count: unread && res.next_cursor && unread === res.items.length ? `${unread}+` : unread });
    count.hidden = !unread;
    readAll.hidden = !unread;
  }
  $('#notifications-retry', main).addEventListener('click', load);
  readAll.addEventListener('click', async () => {
    try {
      await api('/notifications/read-all', { json: {} });
    } catch (err) {
      say(`${t('prefs.notifications_failed')} ${why(err)}`, 'error');
      return;
    }
    await load();
  });
  await load();
}

async function settings(main) {
  const form = $('#prefs-form', main);
  let prefs;
  try {
    prefs = await api('/me/notification-preferences');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) { $('#prefs-absent', main).hidden = false; return; }
    throw err;
  }
  // Only the kinds her role can be sent: the API lists those (a clinician is never offered
  // a case), in its order.
  const kinds = { ...(prefs.channels || {}) };
  form.hidden = false;
  // Column heads kept short (the console's channel in one word) so the table fits a phone;
  // each checkbox still says its kind and channel in full.
  const head = (c) => (c === 'in_app' ? t('prefs.in_app_short') : label('channel', c));
  $('#prefs-table', main).replaceChildren(
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('prefs.kind') }), ...CHANNELS.map((c) => h('th', { scope: 'col', text: head(c) })))),
    h('tbody', {}, ...Object.keys(kinds).map((k) => [h('tr', {}, h('th', { scope: 'row', text: label('notification', k) }),
      ...CHANNELS.map((c) => h('td', {}, h('input', { type: 'checkbox', name: `${k}:${c}`, checked: has(kinds[k], c), 'aria-label': `${label('notification', k)}: ${label('channel', c)}` })))),
    URGENT.has(k) && h('tr', { class: 'row-note', hidden: true },
      h('td', { colspan: CHANNELS.length + 1 }, h('p', { class: 'notice', id: `prefs-note-${k}`, text: t('prefs.console_only') })))])));
  // SMS needs a verified phone number (PUT /me/phone): without one a ticked SMS reaches nobody.
  const phoneOk = !!(prefs.phone && prefs.phone_verified);
  const box = (k, c) => form.elements.namedItem(`${k}:${c}`);
  const describe = (el, id, on) => {
    const rest = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
    if (on) rest.unshift(id);
    if (rest.length) el.setAttribute('aria-describedby', rest.join(' ')); else el.removeAttribute('aria-describedby');
  };
  $('#prefs-sms-note', main).hidden = phoneOk;
  for (const k of Object.keys(kinds)) describe(box(k, 'sms'), 'prefs-sms-note', !phoneOk);
  const reachable = () => {
    for (const k of Object.keys(kinds).filter((x) => URGENT.has(x))) {
      const away = box(k, 'email').checked || box(k, 'push').checked || (phoneOk && box(k, 'sms').checked);
      $(`#prefs-note-${k}`, main).closest('tr').hidden = away;
      for (const c of CHANNELS) describe(box(k, c), `prefs-note-${k}`, !away);
    }
  };
  reachable();
  form.addEventListener('change', reachable);

  // The zone quiet hours are kept in and the language messages are written in: her own if
  // she chose one, else what the server derives (a specialist's profile, the facility);
  // sent back as read, those keep following it (app/notifications/preferences.py, `_own`).
  // When the server knows nothing of her (`default`: UTC, English), her browser's zone and
  // this page's language are offered instead, said not saved until she saves. A zone reads
  // by its name, as on every page (core.js zoneName: "Kolkata, India Standard Time", today's
  // city for Asia/Calcutta); the field keeps the id the server takes, its name beside it.
  const zone = $('#prefs-timezone', main);
  const language = $('#prefs-language', main);
  const languageNote = $('#prefs-language-note', main);
  zoneChoices(zone);
  const zoneSaid = () => {
    const id = zone.value.trim();
    const said = $('#prefs-timezone-name', main);
    said.textContent = zoneName(id);
    said.hidden = !id || said.textContent === id; // nothing more than the field says
  };
  zone.addEventListener('input', zoneSaid);
  const show = (p) => {
    const zoneGuess = p.timezone_source === 'default' && tz && tz !== p.timezone ? tz : null;
    zone.value = zoneGuess || p.timezone;
    zoneSaid();
    const from = { specialist_profile: 'prefs.zone_from_profile', facility: 'prefs.zone_from_facility' }[p.timezone_source];
    $('#prefs-zone', main).textContent = [
      t('prefs.zone', { zone: zoneName(p.timezone) }),
      zoneGuess ? t('prefs.zone_unsaved', { zone: zoneName(zoneGuess) }) : from && t(from),
    ].filter(Boolean).join(' ');
    const offered = [...language.options].some((o) => o.value === lang);
    const languageGuess = p.language_source === 'default' && lang !== p.language && offered ? lang : null;
    language.value = languageGuess || p.language;
    languageNote.textContent = languageGuess ? t('prefs.language_unsaved', { language: languageName(p.language) }) : '';
    languageNote.hidden = !languageGuess;
  };
  show(prefs);
  form.quiet_start.value = prefs.quiet_hours?.start || '';
  form.quiet_end.value = prefs.quiet_hours?.end || '';
  const quietError = $('#quiet-error', main);
  const formError = $('#prefs-error', main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Quiet hours are a window: both ends, or none (no quiet hours).
    const [start, end] = [form.quiet_start.value, form.quiet_end.value];
    for (const el of [form.quiet_start, form.quiet_end]) el.removeAttribute('aria-invalid');
    quietError.hidden = true;
    formError.hidden = true;
    if (!start !== !end) {
      const missing = start ? form.quiet_end : form.quiet_start;
      missing.setAttribute('aria-invalid', 'true');
      quietError.textContent = t('prefs.quiet_both');
      quietError.hidden = false;
      missing.focus();
      return;
    }
    for (const k of Object.keys(kinds)) {
      const on = CHANNELS.filter((c) => form.elements.namedItem(`${k}:${c}`).checked);
      kinds[k] = Array.isArray(kinds[k]) || kinds[k] === undefined ? on : Object.fromEntries(CHANNELS.map((c) => [c, on.includes(c)]));
    }
    // What PUT takes (PreferencesUpdate): the zone as shown in the field (empty: follow
    // the profile or facility again), the language chosen.
    const body = { channels: kinds, timezone: zone.value.trim() || null, language: language.value };
    body.quiet_hours = start && end ? { start, end } : null;
    try {
      prefs = await api('/me/notification-preferences', { method: 'PUT', json: body });
      show(prefs);
      say(t('saved'));
    } catch (err) {
      if (err instanceof ApiError) showProblem(form, err, formError);
      else say(why(err), 'error');
    }
  });
}
