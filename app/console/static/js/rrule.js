// A round's repetition in words (RFC 5545 RRULE), for the people who attend it: every day
// or every N days, weekly on some days, monthly on a day or on the nth weekday, yearly,
// with a count or an end date. A rule outside these is shown as written.
import { dateLocale, lang, t } from './core.js';

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const KNOWN = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL', 'WKST']);
const NTH = { 1: 'rrule.nth_1', 2: 'rrule.nth_2', 3: 'rrule.nth_3', 4: 'rrule.nth_4', '-1': 'rrule.nth_last' };

// The weekday's name in the page's language (2024-01-01 was a Monday).
const dayName = (code) => new Intl.DateTimeFormat(dateLocale, { weekday: 'long', timeZone: 'UTC' })
  .format(new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(code))));

function repeats(p) {
  const n = Number(p.INTERVAL || 1);
  if (!Number.isInteger(n) || n < 1) return null;
  const many = n > 1;
  const days = p.BYDAY ? p.BYDAY.split(',') : [];
  switch (p.FREQ) {
    case 'DAILY':
      return days.length || p.BYMONTHDAY ? null : many ? t('rrule.days_n', { n }) : t('rrule.daily');
    case 'WEEKLY': {
      if (p.BYMONTHDAY || !days.every((d) => WEEKDAYS.includes(d))) return null;
      if (!days.length) return many ? t('rrule.weeks_n', { n }) : t('rrule.weekly');
      const list = new Intl.ListFormat(lang, { type: 'conjunction' }).format(days.map(dayName));
      return t(many ? 'rrule.weeks_n_on' : 'rrule.weekly_on', { n, days: list });
    }
    case 'MONTHLY': {
      const every = many ? t('rrule.months_n', { n }) : t('rrule.monthly');
      if (p.BYMONTHDAY && !days.length) {
        const day = /^\d{1,2}$/.test(p.BYMONTHDAY) ? Number(p.BYMONTHDAY) : 0;
        if (day < 1 || day > 31) return null;
        return t(day === 1 ? 'rrule.on_day_1' : 'rrule.on_day', { every, day });
      }
      if (p.BYMONTHDAY || days.length > 1) return null;
      if (!days.length) return every;
      const m = /^([+-]?\d)([A-Z]{2})$/.exec(days[0]);
      const key = m && NTH[Number(m[1])];
      if (!key || !WEEKDAYS.includes(m[2])) return null;
      return t('rrule.on_nth', { every, nth: t(key), day: dayName(m[2]) });
    }
    case 'YEARLY':
      return days.length || p.BYMONTHDAY ? null : many ? t('rrule.years_n', { n }) : t('rrule.yearly');
    default:
      return null;
  }
}

// The common repetitions of a round whose first start is `localDate` (YYYY-MM-DD, the
// host's wall date), on that weekday: every week, every two weeks, the same weekday of the
// month (a fifth one is the month's last), or the month's last.
export function commonRule(kind, localDate) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(localDate);
  if (!m) return null;
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const code = WEEKDAYS[(day.getUTCDay() + 6) % 7];
  const nth = Math.ceil(day.getUTCDate() / 7);
  return {
    weekly: `FREQ=WEEKLY;BYDAY=${code}`,
    biweekly: `FREQ=WEEKLY;INTERVAL=2;BYDAY=${code}`,
    monthly_nth: `FREQ=MONTHLY;BYDAY=${nth <= 4 ? nth : -1}${code}`,
    monthly_last: `FREQ=MONTHLY;BYDAY=-1${code}`,
  }[kind] ?? null;
}

// `zone`: the round's time zone, in which its end (UNTIL, stored in UTC) falls on a day.
export function describeRule(rrule, zone = 'UTC') {
  const p = {};
  for (const part of String(rrule).split(';')) {
    const [k, v, ...rest] = part.split('=');
    if (!k || v === undefined || rest.length || !KNOWN.has(k.toUpperCase())) return rrule;
    p[k.toUpperCase()] = v.toUpperCase();
  }
  if (p.COUNT && p.UNTIL) return rrule; // RFC 5545: one or the other
  let text = repeats(p);
  if (!text) return rrule;
  if (p.COUNT) {
    const n = /^\d+$/.test(p.COUNT) ? Number(p.COUNT) : 0;
    if (n < 1) return rrule;
    text = t(n === 1 ? 'rrule.count_1' : 'rrule.count', { rule: text, n });
  }
  if (p.UNTIL) {
    const u = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(p.UNTIL);
    if (!u) return rrule;
    const [y, mo, d, hh, mm, ss] = u.slice(1, 7).map((x) => Number(x || 0));
    const end = new Date(Date.UTC(y, mo - 1, d, hh, mm, ss));
    if (Number.isNaN(end.getTime())) return rrule;
    let date;
    try {
      // A UTC time (as the server stores it) is an instant: its day is the one in the
      // round's zone. A date alone, or a wall time, is the day written.
      const where = u[7] === 'Z' ? zone : 'UTC';
      date = new Intl.DateTimeFormat(dateLocale, { dateStyle: 'medium', timeZone: where }).format(end);
    } catch {
      return rrule; // a zone this browser does not know
    }
    text = t('rrule.until', { rule: text, date });
  }
  return text;
}
