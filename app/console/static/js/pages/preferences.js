// Notification preferences (per kind, the channels; quiet hours) and the in-app
// notifications. The notifications API may not be deployed yet: the page says so.
import { $, ApiError, api, fmt, h, label, say, t } from '../core.js';

const KINDS = ['offer', 'offer_expiring', 'case_unmatched', 'case_overdue', 'note_signed', 'followup_due', 'followup_overdue', 'round_reminder', 'messages', 'digest'];
const CHANNELS = ['email', 'push', 'sms', 'in_app'];

// Where the per-kind choices sit, whichever of the usual shapes the API answers with:
// {kind: [channels]} or {kind: {channel: bool}}, at the top or under one key.
function kindsOf(prefs) {
  for (const holder of [prefs, ...Object.values(prefs).filter((v) => v && typeof v === 'object' && !Array.isArray(v))]) {
    if (KINDS.some((k) => k in holder)) return holder;
  }
  return null;
}

const has = (v, ch) => (Array.isArray(v) ? v.includes(ch) : !!v?.[ch]);

export default async function preferences(main) {
  const form = $('#prefs-form', main);
  let prefs;
  try {
    prefs = await api('/me/notification-preferences');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) { $('#prefs-absent', main).hidden = false; return; }
    throw err;
  }
  const kinds = kindsOf(prefs) || {};
  form.hidden = false;
  // Column heads kept short (the console's channel in one word) so the table fits a phone;
  // each checkbox still says its kind and channel in full.
  const head = (c) => (c === 'in_app' ? t('prefs.in_app_short') : label('channel', c));
  $('#prefs-table', main).replaceChildren(
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('prefs.kind') }), ...CHANNELS.map((c) => h('th', { scope: 'col', text: head(c) })))),
    h('tbody', {}, ...KINDS.map((k) => h('tr', {}, h('th', { scope: 'row', text: label('notification', k) }),
      ...CHANNELS.map((c) => h('td', {}, h('input', { type: 'checkbox', name: `${k}:${c}`, checked: has(kinds[k], c), 'aria-label': `${label('notification', k)}: ${label('channel', c)}` })))))));
  // The zone quiet hours are kept in and the language messages are written in: the
  // person's own if they chose one, else what the server derives (a specialist's
  // profile, the facility). Sending them back as read keeps that: the server does not
  // store a derived value merely echoed back, so it keeps following the profile, and an
  // own one is kept (app/notifications/preferences.py, `_own`).
  const show = (p) => {
    $('#prefs-zone', main).textContent = t('prefs.zone', { zone: p.timezone });
    $('#prefs-language', main).value = p.language;
  };
  show(prefs);
  form.quiet_start.value = prefs.quiet_hours?.start || '';
  form.quiet_end.value = prefs.quiet_hours?.end || '';
  const quietError = $('#quiet-error', main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // Quiet hours are a window: both ends, or none (no quiet hours).
    const [start, end] = [form.quiet_start.value, form.quiet_end.value];
    for (const el of [form.quiet_start, form.quiet_end]) el.removeAttribute('aria-invalid');
    quietError.hidden = true;
    if (!start !== !end) {
      const missing = start ? form.quiet_end : form.quiet_start;
      missing.setAttribute('aria-invalid', 'true');
      quietError.textContent = t('prefs.quiet_both');
      quietError.hidden = false;
      missing.focus();
      return;
    }
    for (const k of KINDS) {
      const on = CHANNELS.filter((c) => form.elements.namedItem(`${k}:${c}`).checked);
      kinds[k] = Array.isArray(kinds[k]) || kinds[k] === undefined ? on : Object.fromEntries(CHANNELS.map((c) => [c, on.includes(c)]));
    }
    // What PUT takes (PreferencesUpdate): the read's phone fields are not part of it.
    const body = { channels: kinds, timezone: prefs.timezone, language: $('#prefs-language', main).value };
    body.quiet_hours = start && end ? { start, end } : null;
    try {
      prefs = await api('/me/notification-preferences', { method: 'PUT', json: body });
      show(prefs);
      say(t('saved'));
    } catch (err) { say(err.message, 'error'); }
  });

  const list = $('#notification-list', main);
  async function notes() {
    const res = await api('/notifications?limit=50').catch(() => ({ items: [] }));
    list.replaceChildren(...res.items.map((n) => h('li', { class: n.read_at ? 'muted' : '' },
      h('time', { datetime: n.created_at, text: fmt(n.created_at) }), ' · ',
      n.link ? h('a', { href: new URL(n.link, location.href).pathname, text: n.subject }) : n.subject)));
    if (!res.items.length) list.append(h('li', { class: 'muted', text: t('prefs.no_notifications') }));
    $('#read-all', main).hidden = !res.items.some((n) => !n.read_at);
  }
  $('#read-all', main).addEventListener('click', async () => { await api('/notifications/read-all', { json: {} }); await notes(); });
  await notes();
}
