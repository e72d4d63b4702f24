// A specialist's own profile: specialties, languages, weekly windows (in her own zone),
// time off, capacity and whether she takes cases now.
import { $, ApiError, api, fmtDate, h, label, say, session, showProblem, t, tz, zoneChoices, zoneName } from '../core.js';
import { takeLanguages } from '../languages.js';

const DAYS = [0, 1, 2, 3, 4, 5, 6];

function windowRow(w = { weekday: 0, start: '09:00', end: '17:00' }) {
  const n = windowRow.n = (windowRow.n || 0) + 1;
  const li = h('li', { class: 'row3' },
    h('label', { for: `wd-${n}`, class: 'sr', text: t('field.weekday') }),
    h('select', { id: `wd-${n}`, name: 'weekday' }, DAYS.map((d) => h('option', { value: d, text: t(`weekday.${d}`), selected: d === w.weekday }))),
    h('label', { for: `ws-${n}`, class: 'sr', text: t('field.start') }),
    h('input', { id: `ws-${n}`, name: 'start', type: 'time', value: w.start }),
    h('label', { for: `we-${n}`, class: 'sr', text: t('field.end') }),
    h('input', { id: `we-${n}`, name: 'end', type: 'time', value: w.end === '24:00' ? '23:59' : w.end }),
    h('button', { type: 'button', class: 'secondary', text: t('action.remove'), onclick: () => li.remove() }));
  return li;
}

// Time off comes back as UTC instants: the start of the first day off and the end
// (exclusive) of the last, both at midnight in her profile's zone when she gave dates. The
// form shows her own calendar days, the last one included; a boundary the API was given as
// an instant inside a day is shown as its day and sent back as that same instant unless
// its date is changed, so saving untouched changes nothing.
const DAY_PARTS = { hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' };

function zoneParts(zone) {
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { ...DAY_PARTS, timeZone: zone || 'UTC' });
  } catch {
    fmt = new Intl.DateTimeFormat('en-US', { ...DAY_PARTS, timeZone: 'UTC' }); // (the server checks zones)
  }
  return (ms) => Object.fromEntries(fmt.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}

function boundary(value, zone, isEnd) {
  const ms = Date.parse(value);
  if (!value || Number.isNaN(ms)) return { date: '', exact: null };
  const parts = zoneParts(zone);
  const at = parts(ms);
  const midnight = at.hour === '00' && at.minute === '00' && at.second === '00' && !/\.\d*[1-9]/.test(value);
  const day = isEnd ? parts(ms - 1) : at; // the end is exclusive: her last day off is the day before
  return { date: `${day.year}-${day.month}-${day.day}`, exact: midnight ? null : String(value) };
}

function offRow(o = { start: '', end: '' }, zone = '') {
  const n = offRow.n = (offRow.n || 0) + 1;
  const start = boundary(o.start, zone, false);
  const end = boundary(o.end, zone, true);
  // data-field: the API's name for it, so a refusal of `/time_off/0/end` finds it.
  const input = (id, name, field, b) => h('input', { id, name, type: 'date', value: b.date, data: b.exact ? { field, shown: b.date, exact: b.exact } : { field } });
  const li = h('li', { class: 'row3' },
    h('label', { for: `os-${n}`, text: t('field.from') }),
    input(`os-${n}`, 'off_start', 'start', start),
    h('label', { for: `oe-${n}`, text: t('field.to') }),
    input(`oe-${n}`, 'off_end', 'end', end),
    h('button', { type: 'button', class: 'secondary', text: t('action.remove'), onclick: () => li.remove() }));
  return li;
}

// What the API is sent for one boundary: the date in the field (a whole day in her zone),
// or the instant it came as if it was not at midnight and its date was not changed.
function sent(el) {
  return el.dataset.exact && el.value === el.dataset.shown ? el.dataset.exact : el.value;
}

// Each row sent is marked with the pointer the API will name it by and the words she reads
// it by ("Window 6 (Tuesday 09:00-08:00)"), so a refusal is said against that row
// (showProblem). A row is named as it was when sent.
function windowSent(li, i) {
  const value = (name) => li.querySelector(`[name=${name}]`).value;
  const w = { weekday: Number(value('weekday')), start: value('start'), end: value('end') === '23:59' ? '24:00' : value('end') };
  Object.assign(li.dataset, {
    pointer: `/availability/${i}`,
    label: t('avail.window_n', { n: i + 1, day: t(`weekday.${w.weekday}`), start: value('start') || '…', end: value('end') || '…' }),
  });
  return w;
}

// A time off is sent as typed, a missing day left out: the API then asks for it (a row
// with one date is never dropped while "saved" is said). A row left blank is nothing.
function offSent(li, i, n) {
  const [from, to] = [li.querySelector('[name=off_start]'), li.querySelector('[name=off_end]')];
  const day = (el) => (el.value ? fmtDate(`${el.value}T00:00`) : '');
  const key = from.value && to.value ? 'avail.time_off_n' : from.value ? 'avail.time_off_from' : 'avail.time_off_to';
  Object.assign(li.dataset, { pointer: `/time_off/${i}`, label: t(key, { n, from: day(from), to: day(to) }) });
  const o = {};
  if (from.value) o.start = sent(from);
  if (to.value) o.end = sent(to);
  return o;
}

export default async function availability(main) {
  const id = session.me.id;
  const form = $('#profile-form', main);
  const [codes, r] = await Promise.all([api('/specialties'), api(`/specialists/${id}`, { raw: true })]);
  const profile = r.ok ? await r.json() : { specialties: [], languages: [], timezone: tz, availability: [], time_off: [], max_active_cases: 3, accepting: true, verified: false };
  let etag = r.headers.get('ETag');
  // Never saved (version 0, the service's stand-in in UTC): her device's zone is offered,
  // named under the field, and saved with the rest. UTC taken as hers put an evening's
  // window in Tokyo nine hours off, and cases were offered to her asleep.
  if (/^(W\/)?"0-/.test(etag || '')) profile.timezone = tz;
  $('#specialty-boxes', main).replaceChildren(...codes.map((s, i) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `sp-${i}`, name: 'specialties', value: s.code, checked: profile.specialties.includes(s.code) }),
    h('label', { for: `sp-${i}`, text: label('specialty', s.code) }))));
  form.languages.value = profile.languages.join(', ');
  takeLanguages(form.languages); // named under the field
  form.timezone.value = profile.timezone || '';
  zoneChoices(form.timezone);
  // The zone by its name, as the footer says it (the field keeps the id the server takes).
  const zoneSaid = () => {
    const zone = form.timezone.value.trim();
    $('#sp-timezone-name', main).textContent = zoneName(zone);
  };
  zoneSaid();
  form.timezone.addEventListener('input', zoneSaid);
  form.max_active_cases.value = profile.max_active_cases;
  form.accepting.checked = profile.accepting;
  $('#verified', main).textContent = profile.verified ? t('avail.verified') : t('avail.not_verified');
  const windows = $('#windows', main);
  const off = $('#time-off', main);
  windows.replaceChildren(...profile.availability.map(windowRow));
  off.replaceChildren(...profile.time_off.map((o) => offRow(o, profile.timezone)));
  $('#add-window', main).addEventListener('click', () => windows.append(windowRow()));
  $('#add-time-off', main).addEventListener('click', () => off.append(offRow()));

  // A refusal stays beside the form until she changes something (a field, a row added or
  // removed); what she changes is no longer marked wrong, the rest still is.
  const problem = $('#profile-problem', main);
  const refused = (text) => { problem.textContent = text; problem.hidden = false; };
  const changed = (e) => {
    problem.hidden = true;
    const where = e.target.closest?.('[data-pointer]') || e.target;
    for (const el of [where, ...where.querySelectorAll('[aria-invalid]')]) el.removeAttribute?.('aria-invalid');
  };
  form.addEventListener('input', changed);
  form.addEventListener('click', (e) => { if (e.target.closest?.('button[type=button]')) changed(e); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    takeLanguages(form.languages); // names typed, sent as their codes
    const body = {
      specialties: [...form.querySelectorAll('[name=specialties]:checked')].map((el) => el.value),
      languages: form.languages.value.split(',').map((s) => s.trim()).filter(Boolean),
      timezone: form.timezone.value.trim(),
      max_active_cases: Number(form.max_active_cases.value),
      accepting: form.accepting.checked,
      availability: [...windows.children].map(windowSent),
      time_off: [],
    };
    [...off.children].forEach((li, row) => {  // (named by its place on the page)
      if (li.querySelector('[name=off_start]').value || li.querySelector('[name=off_end]').value) {
        body.time_off.push(offSent(li, body.time_off.length, row + 1));
      } else delete li.dataset.pointer;
    });
    try {
      const res = await api(`/specialists/${id}/profile`, { method: 'PUT', json: body, raw: true, headers: etag ? { 'If-Match': etag } : {} });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
      etag = res.headers.get('ETag');
      problem.hidden = true;
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      say(t('saved'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) refused(t('avail.changed_elsewhere'));
      else if (err instanceof ApiError) showProblem(form, err, problem);
      else refused(t('error.offline'));
    }
  });
}
