// A round's repetition in words (RFC 5545 RRULE), for the people who attend it: every day
// or every N days, weekly on some days, monthly on a day or on the nth weekday, yearly,
// with a count or an end date. A rule outside these is shown as written.
import { lang, t } from './core.js';

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const KNOWN = new Set(['FREQ', 'INTERVAL', 'BYDAY', 'BYMONTHDAY', 'COUNT', 'UNTIL', 'WKST']);
const NTH = { 1: 'rrule.nth_1', 2: 'rrule.nth_2', 3: 'rrule.nth_3', 4: 'rrule.nth_4', '-1': 'rrule.nth_last' };

// The weekday's name in the page's language (2024-01-01 was a Monday).
const dayName = (code) => new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' })
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
      if (p.BYMONTHDAY && !days.length && /^\d{1,2}$/.test(p.BYMONTHDAY)) {
        return t('rrule.on_day', { every, day: Number(p.BYMONTHDAY) });
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

export function describeRule(rrule) {
  const p = {};
  for (const part of String(rrule).split(';')) {
    const [k, v, ...rest] = part.split('=');
    if (!k || v === undefined || rest.length || !KNOWN.has(k.toUpperCase())) return rrule;
    p[k.toUpperCase()] = v.toUpperCase();
  }
  let text = repeats(p);
  if (!text) return rrule;
  if (p.COUNT) text = t('rrule.count', { rule: text, n: Number(p.COUNT) });
  const until = /^(\d{4})(\d{2})(\d{2})/.exec(p.UNTIL || '');
  if (until) {
    const day = new Date(Date.UTC(Number(until[1]), Number(until[2]) - 1, Number(until[3])));
    text = t('rrule.until', { rule: text, date: new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(day) });
  }
  return text;
}
