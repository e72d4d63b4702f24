// The specialists: who can help and when, for a coordinator matching cases across time zones
// (each one's specialties, languages, open cases, whether she can be reached now and else
// when next, her time off and weekly hours in the viewer's time), and the verify toggle
// (credentials are checked elsewhere, then marked here). Two requests per view: the
// directory (with `next_window_start`, computed by the server) and who is on duty; the
// filters work on what was read.
import { $, ApiError, all, api, busy, fmt, h, labelCells, label, lang, dateLocale, languageName, languageNames, say, t, zoneName } from '../core.js';

const MINUTE = 60000;
const WEEK = 7 * 24 * 60 * MINUTE;
const whenFmt = new Intl.DateTimeFormat(dateLocale, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(dateLocale, { weekday: 'short' });
const clockFmt = new Intl.DateTimeFormat(dateLocale, { hour: '2-digit', minute: '2-digit' });

// Formatters per zone, made once: the wall clock there, a day and a time there.
const zoneFormats = new Map();
function inZone(zone) {
  if (!zoneFormats.has(zone)) {
    try {
      zoneFormats.set(zone, {
        parts: new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }),
        now: new Intl.DateTimeFormat(dateLocale, { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit' }),
        day: new Intl.DateTimeFormat(dateLocale, { timeZone: zone, day: 'numeric', month: 'short' }),
        dayYear: new Intl.DateTimeFormat(dateLocale, { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric' }),
      });
    } catch { zoneFormats.set(zone, null); } // a zone this browser does not know
  }
  return zoneFormats.get(zone);
}

// The wall clock in `zone` at an instant (ms), as if it were UTC (ms).
function wallMs(ms, zone) {
  const p = Object.fromEntries(inZone(zone).parts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
}
// The instant (ms) at which `zone`'s wall clock reads `wall` (ms as if UTC).
function instant(wall, zone) {
  let at = wall;
  for (let i = 0; i < 2; i += 1) at = wall - (wallMs(at, zone) - Math.floor(at / MINUTE) * MINUTE);
  return at;
}

const minutes = (hhmm) => { const [hh, mm] = hhmm.split(':'); return +hh * 60 + +mm; };

// Her weekly windows (her zone) as this week's instants, joined where they touch, each said
// in the viewer's time: "lun. 15:30–17:30".
function weeklyHours(s) {
  if (!s.availability.length) return t('specialists.no_hours');
  if (!inZone(s.timezone)) return s.availability.map((w) => `${t(`weekday.${w.weekday}`)} ${w.start}–${w.end} (${s.timezone})`).join(', ');
  const today = wallMs(Date.now(), s.timezone);
  const monday = today - (((new Date(today).getUTCDay() + 6) % 7) * 24 * 60 * MINUTE) - (today % (24 * 60 * MINUTE));
  const spans = s.availability.map((w) => {
    const day = monday + w.weekday * 24 * 60 * MINUTE;
    return [instant(day + minutes(w.start) * MINUTE, s.timezone), instant(day + minutes(w.end) * MINUTE, s.timezone)];
  }).sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const [a, b] of spans) {
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  if (merged.length > 1 && merged.at(-1)[1] >= merged[0][0] + WEEK) {
    const [a] = merged.pop();
    merged[0][0] = a - WEEK;
  }
  if (merged.reduce((n, [a, b]) => n + b - a, 0) >= WEEK - MINUTE) return t('specialists.always');
  // Said per day in her time; days in a row with the same hours as one: "lun.–ven. 09:00–17:00".
  const said = [];
  for (const [a, b] of merged) {
    const sameDay = dayFmt.format(a) === dayFmt.format(b - MINUTE) && b - a < 24 * 60 * MINUTE;
    const hours = `${clockFmt.format(a)}–${sameDay ? '' : `${dayFmt.format(b)} `}${clockFmt.format(b)}`;
    const last = said.at(-1);
    const nextDay = last && Math.abs(a - last.at - 24 * 60 * MINUTE) <= 60 * MINUTE; // a clock change: 23 or 25 h
    if (last && sameDay && last.sameDay && last.hours === hours && nextDay) Object.assign(last, { at: a, to: dayFmt.format(a) });
    else said.push({ at: a, from: dayFmt.format(a), to: null, hours, sameDay });
  }
  return said.map((d) => `${d.to ? `${d.from}–${d.to}` : d.from} ${d.hours}`).join(', ');
}

// Her current or next time off: her own calendar days when it is whole days in her zone,
// else the times in the viewer's.
function timeOff(s, now) {
  const off = s.time_off.find((o) => Date.parse(o.end) > now);
  if (!off) return '';
  const start = Date.parse(off.start);
  const end = Date.parse(off.end);
  const f = inZone(s.timezone);
  const wholeDays = f && wallMs(start, s.timezone) % (24 * 60 * MINUTE) === 0 && wallMs(end, s.timezone) % (24 * 60 * MINUTE) === 0;
  if (!wholeDays) return t('specialists.off_span', { from: fmt(off.start), to: fmt(off.end) });
  const year = new Date(now).getFullYear();
  const day = (ms) => (new Date(ms).getFullYear() === year ? f.day : f.dayYear).format(ms);
  const first = day(start);
  const last = day(end - MINUTE);
  return first === last ? first : t('specialists.off_span', { from: first, to: last });
}

// Whether she can be reached now (GET /specialists/on-duty said so), else why not and when.
function reach(s, onDuty, now) {
  if (onDuty) return h('span', { class: 'pill', 'data-state': 'open', text: t('specialists.reachable') });
  const why = [];
  if (!s.active) why.push(t('users.inactive'));
  if (!s.verified) why.push(t('avail.not_verified'));
  if (!s.accepting) why.push(t('specialists.not_accepting'));
  if (s.active_cases >= s.max_active_cases) why.push(t('specialists.full'));
  if (s.time_off.some((o) => Date.parse(o.start) <= now && now < Date.parse(o.end))) why.push(t('specialists.off_now'));
  if (s.next_window_start == null) why.push(t('specialists.no_hours'));
  else if (Date.parse(s.next_window_start) > now) why.push(t('specialists.next_window', { when: whenFmt.format(new Date(s.next_window_start)) }));
  return why.join(' · ');
}

const primary = (tag) => tag.split('-')[0].toLowerCase();

export default async function specialists(main) {
  const table = $('#specialist-table', main);
  const only = $('#only-unverified', main);
  const reachable = $('#filter-reachable', main);
  const specialty = $('#filter-specialty', main);
  const language = $('#filter-language', main);
  let people = [];
  let duty = new Set();

  async function verify(sp, on) {
    const r = await api(`/specialists/${sp.id}`, { raw: true });
    const current = await r.json();
    const body = {
      specialties: current.specialties, languages: current.languages, timezone: current.timezone,
      availability: current.availability, time_off: current.time_off,
      max_active_cases: current.max_active_cases, accepting: current.accepting, verified: on,
    };
    try {
      await api(`/specialists/${sp.id}/profile`, { method: 'PUT', json: body, headers: { 'If-Match': r.headers.get('ETag') } });
      say(on ? t('specialists.verified') : t('specialists.unverified'));
      await busy(main, load);
    } catch (err) { say(err instanceof ApiError ? err.message : t('error.offline'), 'error'); }
  }

  // A filter's choices: what the directory holds, by name in her language; a choice made
  // stays chosen when the list is read again.
  function choices(select, pairs) {
    const chosen = select.value;
    const order = new Intl.Collator(lang);
    pairs.sort((a, b) => order.compare(a[1], b[1]));
    select.replaceChildren(select.options[0], ...pairs.map(([v, text]) => h('option', { value: v, text })));
    select.value = pairs.some(([v]) => v === chosen) ? chosen : '';
  }

  function draw() {
    const now = Date.now();
    const items = people.filter((s) => (!only.checked || !s.verified)
      && (!reachable.checked || duty.has(s.id))
      && (!specialty.value || s.specialties.includes(specialty.value))
      && (!language.value || s.languages.some((l) => primary(l) === language.value)));
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['field.name', 'avail.specialties', 'column.languages', 'field.timezone', 'candidates.load',
        'specialists.col_now', 'specialists.col_hours', 'avail.time_off', 'field.status', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((s) => {
        const f = inZone(s.timezone);
        return h('tr', { data: { specialistId: s.id } },
          h('td', { text: s.name }),
          h('td', { text: s.specialties.map((c) => label('specialty', c)).join(', ') }),
          h('td', { class: 'sp-langs', text: languageNames(s.languages) }),
          h('td', { class: 'sp-zone', text: f ? t('specialists.zone_now', { zone: zoneName(s.timezone), time: f.now.format(now) }) : s.timezone }),
          h('td', { class: 'sp-cases', text: t('specialists.cases_of', { n: s.active_cases, max: s.max_active_cases }) }),
          h('td', { class: 'sp-reach' }, reach(s, duty.has(s.id), now)),
          h('td', { class: 'sp-hours', text: weeklyHours(s) }),
          h('td', { class: 'sp-off', text: timeOff(s, now) }),
          h('td', { text: s.verified ? t('avail.verified') : t('avail.not_verified') }),
          h('td', {}, h('button', { type: 'button', class: s.verified ? 'secondary' : '', text: s.verified ? t('action.unverify') : t('action.verify_specialist'),
            onclick: () => verify(s, !s.verified) })));
      })));
    // Nobody to show: said in words, not as a table of headings alone.
    table.hidden = !items.length;
    $('#specialist-none', main).hidden = !!items.length;
    labelCells(table);
  }

  async function load() {
    [people, duty] = await Promise.all([
      all('/specialists'),
      all('/specialists/on-duty').then((list) => new Set(list.map((s) => s.id))),
    ]);
    const waiting = people.filter((s) => !s.verified).length;
    $('#unverified-count', main).textContent = waiting ? `(${waiting})` : '';
    choices(specialty, [...new Set(people.flatMap((s) => s.specialties))].map((c) => [c, label('specialty', c)]));
    choices(language, [...new Set(people.flatMap((s) => s.languages.map(primary)))].map((c) => [c, languageName(c)]));
    draw();
  }

  for (const el of [only, reachable, specialty, language]) el.addEventListener('change', draw);
  await load();
}
