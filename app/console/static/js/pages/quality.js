// The programme's measures as charts: SVG built here from GET /metrics/quality.
import { $, COLON, all, api, fmtDate, fmtNumber, h, label, query, showProblem, t } from '../core.js';

const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const kid of kids) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

// Horizontal bars: [[label, value, shown]], scaled to `max`.
function bars(title, rows, max) {
  const rowH = 40;
  const height = rows.length * rowH + 4;
  const svg = s('svg', { viewBox: `0 0 320 ${height}`, role: 'img', 'aria-label': title });
  rows.forEach(([name, value, shown], i) => {
    const y = i * rowH;
    const w = max ? Math.max(0, Math.min(1, (value ?? 0) / max)) * 240 : 0;
    svg.append(
      s('text', { x: 0, y: y + 14 }, name),
      s('rect', { class: 'bar-back', x: 0, y: y + 20, width: 240, height: 14, rx: 3 }),
      s('rect', { class: 'bar-fill', x: 0, y: y + 20, width: w, height: 14, rx: 3 }),
      s('text', { x: 248, y: y + 32 }, shown));
  });
  return h('figure', { class: 'chart card' }, h('figcaption', {}, h('h2', { text: title })), svg);
}

const pct = (r) => (r == null ? '—' : `${fmtNumber(r * 100)} %`);
const mins = (m) => (m == null ? '—' : m >= 120 ? `${fmtNumber(m / 60, 1)} h` : `${fmtNumber(m)} min`);

export default async function quality(main) {
  const form = $('#quality-filter', main);
  const charts = $('#charts', main);
  const [codes, facilities] = await Promise.all([api('/specialties'), all('/organizations')]);
  form.specialty.append(...codes.map((c) => h('option', { value: c.code, text: label('specialty', c.code) })));
  facilities.sort((a, b) => a.name.localeCompare(b.name));
  form.organization_id.append(...facilities.map((o) => h('option', { value: o.id, text: o.name })));
  const period = $('#quality-period', main);
  const problem = $('#quality-problem', main);
  // Which cases the figures are about, in her words: zeros alone cannot say "nothing was sent".
  function periodText(from, to) {
    const day = (v) => fmtDate(`${v}T00:00`);
    if (from && to) return t('quality.period_between', { from: day(from), to: day(to) });
    if (from) return t('quality.period_from', { from: day(from) });
    if (to) return t('quality.period_to', { to: day(to) });
    return t('quality.period_all');
  }
  async function load() {
    const q = {
      specialty: form.specialty.value,
      organization_id: form.organization_id.value,
      from: form.from.value ? new Date(`${form.from.value}T00:00`).toISOString() : '',
      to: form.to.value ? new Date(`${form.to.value}T23:59:59`).toISOString() : '',
    };
    let m;
    try {
      m = await api(`/metrics/quality${query(q)}`);
    } catch (err) {
      // The figures of another period must not stay under this one's filter.
      charts.replaceChildren();
      period.hidden = true;
      showProblem(form, err, problem);
      return;
    }
    problem.hidden = true;
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const spec = form.specialty.value ? ` · ${label('specialty', form.specialty.value)}` : '';
    const chosen = form.organization_id.selectedOptions[0];
    const where = form.organization_id.value ? ` · ${chosen.textContent}` : '';
    period.textContent = periodText(form.from.value, form.to.value) + spec + where;
    period.hidden = false;
    const times = [['quality.time_to_accept', m.time_to_accept], ['quality.time_to_first_response', m.time_to_first_response], ['quality.time_to_signed_note', m.time_to_signed_note]];
    const maxTime = Math.max(1, ...times.flatMap(([, d]) => [d?.median_minutes || 0, d?.p90_minutes || 0]));
    const rates = [['quality.answered_within_sla_rate', m.answered_within_sla_rate], ['quality.offer_acceptance_rate', m.offer_acceptance_rate],
      ['quality.notes_acknowledged_rate', m.notes_acknowledged_rate], ['quality.changed_management_rate', m.changed_management_rate]];
    const fu = m.follow_ups;
    const line = (key, value) => `${t(key)}${COLON} ${value}`;
    // Late by the plan they had, though moved since: a move does not take them out of sight.
    const movedAfterDue = (f) => (f.moved_after_due
      ? h('p', { class: 'muted', id: 'fu-moved-after-due', data: { value: f.moved_after_due }, text: line('quality.fu_moved_after_due', fmtNumber(f.moved_after_due)) })
      : null);
    const useful = m.usefulness_mean == null ? t('quality.no_rating') : t('quality.out_of_5', { value: fmtNumber(m.usefulness_mean, 1) });
    // A period with nothing in it says so, rather than a page of zeros and dashes.
    const none = (key) => h('p', { class: 'muted', text: t(key) });
    const held = m.rounds.occurrences_held;
    charts.replaceChildren(
      h('section', { class: 'card', id: 'figure-cases' },
        h('h2', { text: t('quality.cases_submitted') }), h('p', { class: 'figure', data: { value: m.cases_submitted }, text: fmtNumber(m.cases_submitted) }),
        m.cases_submitted
          ? h('p', { class: 'muted', text: `${line('quality.unmatched', fmtNumber(m.unmatched))} · ${line('quality.usefulness_mean', useful)}` })
          : none('quality.no_cases')),
      ...(m.cases_submitted ? [
        bars(t('quality.rates'), rates.map(([k, v]) => [t(k), v, pct(v)]), 1),
        bars(t('quality.times'), times.flatMap(([k, d]) => [[`${t(k)} (${t('quality.median')})`, d?.median_minutes, mins(d?.median_minutes)], [`${t(k)} (${t('quality.p90')})`, d?.p90_minutes, mins(d?.p90_minutes)]]), maxTime),
      ] : []),
      fu.due
        ? h('section', { id: 'figure-follow-ups' },
          bars(`${t('quality.follow_ups')} · ${t('quality.fu_due', { n: fmtNumber(fu.due), rate: pct(fu.done / fu.due) })}`,
            ['done', 'missed', 'overdue'].map((k) => [t(`quality.fu_${k}`), fu[k], fmtNumber(fu[k])]), fu.due), movedAfterDue(fu))
        : h('section', { class: 'card', id: 'figure-follow-ups' }, h('h2', { text: t('quality.follow_ups') }), none('quality.no_follow_ups'), movedAfterDue(fu)),
      h('section', { class: 'card', id: 'figure-rounds' }, h('h2', { text: t('quality.rounds') }),
        h('p', {}, `${t('quality.occurrences_held')}${COLON} `,
          h('span', { class: 'figure', id: 'rounds-held', data: { value: held ?? '' }, text: fmtNumber(held ?? 0) })),
        held
          ? h('p', {}, `${t('quality.attendees')}${COLON} `,
            h('span', { class: 'figure', id: 'rounds-local', data: { value: m.rounds.local_attendees_per_occurrence ?? '' }, text: fmtNumber(m.rounds.local_attendees_per_occurrence, 1) }))
          : none('quality.no_rounds')));
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  await load();
}
