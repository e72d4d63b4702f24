// One round series: pick an occurrence, then its agenda (with the suggested cases and the
// round's recommendations, which join each case's record) and who attended.
import { $, all, api, fmt, h, label, say, session, t } from '../core.js';

const DAY = 86400000;

export default async function round(main, { round_id: id }) {
  const staff = ['coordinator', 'admin'].includes(session.me.role);
  const r = await api(`/rounds/${id}`);
  $('#round-title', main).textContent = r.title;
  $('#round-facts', main).replaceChildren(...[
    [t('field.specialty'), label('specialty', r.specialty)], [t('field.rrule'), r.rrule],
    [t('field.starts_at_local'), `${r.starts_at_local} (${r.timezone})`], [t('field.duration_minutes'), r.duration_minutes],
    [t('field.teaching_topic'), r.teaching_topic || '—'],
  ].flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
  if (r.join_url) $('#round-facts', main).append(h('dt', { text: t('rounds.join') }), h('dd', {}, h('a', { href: r.join_url, rel: 'noopener', target: '_blank', text: r.join_url })));

  const from = new Date(Date.now() - 28 * DAY).toISOString();
  const to = new Date(Date.now() + 56 * DAY).toISOString();
  const occ = (await api(`/rounds/${id}/occurrences?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).items;
  const select = $('#occurrence', main);
  const wanted = new URLSearchParams(location.search).get('start');
  const next = occ.find((o) => Date.parse(o.end) > Date.now()) || occ.at(-1);
  select.replaceChildren(...occ.map((o) => h('option', {
    value: o.original_start, selected: wanted ? o.original_start === wanted : o === next,
    text: `${fmt(o.start)}${o.cancelled ? ` (${t('rounds.cancelled')})` : ''}`,
  })));
  const participants = await all(`/rounds/${id}/participants`).catch(() => []);

  async function show() {
    const start = encodeURIComponent(select.value);
    if (!select.value) return;
    const base = `/rounds/${id}/occurrences/${start}`;
    const [agenda, suggested, attendance] = await Promise.all([
      all(`${base}/agenda`), staff ? all(`${base}/suggested-agenda`).catch(() => []) : [], all(`${base}/attendance`).catch(() => [])]);
    $('#agenda', main).replaceChildren(...agenda.map((item) => {
      const tid = `rec-${item.id}`;
      const area = h('textarea', { id: tid, rows: 2, maxlength: 8000, value: item.recommendation || '' });
      return h('li', {},
        h('a', { href: `/cases/${item.case_id}`, text: t('rounds.case') }), ' ',
        h('label', { for: tid, text: t('rounds.recommendation') }), area,
        staff ? h('button', { type: 'button', class: 'secondary', text: t('action.save'), onclick: async () => {
          try {
            await api(`${base}/agenda/${item.id}`, { method: 'PATCH', json: { recommendation: area.value }, headers: { 'If-Match': `"${item.version}"` } });
            say(t('saved'));
            await show();
          } catch (err) { say(err.message, 'error'); }
        } }) : null);
    }));
    if (!agenda.length) $('#agenda', main).append(h('li', { class: 'muted', text: t('rounds.agenda_empty') }));
    $('#suggested', main).replaceChildren(...suggested.map((c) => h('li', {},
      h('a', { href: `/cases/${c.case_id}`, text: c.question }), ` · ${label('status', c.status)} · ${label('urgency', c.urgency)} `,
      h('button', { type: 'button', class: 'secondary', text: t('action.add_to_agenda'), onclick: async () => {
        try { await api(`${base}/agenda`, { json: { case_id: c.case_id, presenter_id: session.me.id } }); await show(); } catch (err) { say(err.message, 'error'); }
      } }))));
    const attended = new Map(attendance.map((a) => [a.user_id, a.attended]));
    $('#attendance', main).replaceChildren(...participants.map((p, i) => h('li', { class: 'check' },
      h('input', { type: 'checkbox', id: `att-${i}`, checked: attended.get(p.user_id) === true, disabled: !staff, onchange: async (e) => {
        try { await api(`${base}/attendance`, { json: { user_id: p.user_id, attended: e.target.checked } }); } catch (err) { say(err.message, 'error'); }
      } }),
      h('label', { for: `att-${i}`, text: `${label('round_role', p.role)} · ${p.user_id}` }))));
    if (!participants.length) $('#attendance', main).append(h('li', { class: 'muted', text: t('rounds.no_participants') }));
  }
  select.addEventListener('change', show);
  await show();
}
