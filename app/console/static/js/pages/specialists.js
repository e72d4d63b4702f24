// Specialists to verify: a coordinator checks credentials elsewhere, then marks them here.
import { $, ApiError, all, api, h, labelCells, label, languageNames, say, t } from '../core.js';

export default async function specialists(main) {
  const table = $('#specialist-table', main);
  const only = $('#only-unverified', main);
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
      await load();
    } catch (err) { say(err instanceof ApiError ? err.message : t('error.offline'), 'error'); }
  }
  async function load() {
    const items = (await all('/specialists')).filter((s) => !only.checked || !s.verified);
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['field.name', 'avail.specialties', 'column.languages', 'field.timezone', 'candidates.load', 'field.status', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((s) => h('tr', { data: { specialistId: s.id } },
        h('td', { text: s.name }),
        h('td', { text: s.specialties.map((c) => label('specialty', c)).join(', ') }),
        h('td', { text: languageNames(s.languages) }),
        h('td', { text: s.timezone }),
        h('td', { text: `${s.active_cases}/${s.max_active_cases}` }),
        h('td', { text: s.verified ? t('avail.verified') : t('avail.not_verified') }),
        h('td', {}, h('button', { type: 'button', class: s.verified ? 'secondary' : '', text: s.verified ? t('action.unverify') : t('action.verify_specialist'),
          onclick: () => verify(s, !s.verified) }))))));
    // Nobody to show: said in words, not as a table of headings alone.
    table.hidden = !items.length;
    $('#specialist-none', main).hidden = !!items.length;
    labelCells(table);
  }
  only.addEventListener('change', load);
  await load();
}
