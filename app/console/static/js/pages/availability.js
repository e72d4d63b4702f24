// A specialist's own profile: specialties, languages, weekly windows (in her own zone),
// time off, capacity and whether she takes cases now.
import { $, ApiError, api, h, label, say, session, showProblem, t, zoneChoices } from '../core.js';

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
  const input = (id, name, b) => h('input', { id, name, type: 'date', value: b.date, data: b.exact ? { shown: b.date, exact: b.exact } : {} });
  const li = h('li', { class: 'row3' },
    h('label', { for: `os-${n}`, text: t('field.from') }),
    input(`os-${n}`, 'off_start', start),
    h('label', { for: `oe-${n}`, text: t('field.to') }),
    input(`oe-${n}`, 'off_end', end),
    h('button', { type: 'button', class: 'secondary', text: t('action.remove'), onclick: () => li.remove() }));
  return li;
}

// What the API is sent for one boundary: the date in the field (a whole day in her zone),
// or the instant it came as if it was not at midnight and its date was not changed.
function sent(el) {
  return el.dataset.exact && el.value === el.dataset.shown ? el.dataset.exact : el.value;
}

export default async function availability(main) {
  const id = session.me.id;
  const form = $('#profile-form', main);
  const [codes, r] = await Promise.all([api('/specialties'), api(`/specialists/${id}`, { raw: true })]);
  const profile = r.ok ? await r.json() : { specialties: [], languages: [], timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, availability: [], time_off: [], max_active_cases: 3, accepting: true, verified: false };
  let etag = r.headers.get('ETag');
  $('#specialty-boxes', main).replaceChildren(...codes.map((s, i) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `sp-${i}`, name: 'specialties', value: s.code, checked: profile.specialties.includes(s.code) }),
    h('label', { for: `sp-${i}`, text: label('specialty', s.code) }))));
  form.languages.value = profile.languages.join(', ');
  form.timezone.value = profile.timezone || '';
  zoneChoices(form.timezone);
  form.max_active_cases.value = profile.max_active_cases;
  form.accepting.checked = profile.accepting;
  $('#verified', main).textContent = profile.verified ? t('avail.verified') : t('avail.not_verified');
  const windows = $('#windows', main);
  const off = $('#time-off', main);
  windows.replaceChildren(...profile.availability.map(windowRow));
  off.replaceChildren(...profile.time_off.map((o) => offRow(o, profile.timezone)));
  $('#add-window', main).addEventListener('click', () => windows.append(windowRow()));
  $('#add-time-off', main).addEventListener('click', () => off.append(offRow()));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      specialties: [...form.querySelectorAll('[name=specialties]:checked')].map((el) => el.value),
      languages: form.languages.value.split(',').map((s) => s.trim()).filter(Boolean),
      timezone: form.timezone.value.trim(),
      max_active_cases: Number(form.max_active_cases.value),
      accepting: form.accepting.checked,
      availability: [...windows.children].map((li) => ({
        weekday: Number(li.querySelector('[name=weekday]').value),
        start: li.querySelector('[name=start]').value,
        end: li.querySelector('[name=end]').value === '23:59' ? '24:00' : li.querySelector('[name=end]').value,
      })),
      time_off: [...off.children].map((li) => ({
        start: sent(li.querySelector('[name=off_start]')), end: sent(li.querySelector('[name=off_end]')),
      })).filter((o) => o.start && o.end),
    };
    try {
      const res = await api(`/specialists/${id}/profile`, { method: 'PUT', json: body, raw: true, headers: etag ? { 'If-Match': etag } : {} });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
      etag = res.headers.get('ETag');
      say(t('saved'));
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) say(t('avail.changed_elsewhere'), 'error');
      else if (err instanceof ApiError) showProblem(form, err);
      else say(t('error.offline'), 'error');
    }
  });
}
