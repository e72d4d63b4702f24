import { $, api, fmt, h, label, pill, query, t } from '../core.js';

export function caseItem(c) {
  return h('div', { class: 'item', data: { caseId: c.id } },
    h('div', { class: 'item-head' },
      h('a', { href: `/cases/${c.id}`, text: c.question || c.id }),
      pill('status', c.status), pill('urgency', c.urgency)),
    h('div', { class: 'muted' },
      `${label('specialty', c.specialty)} · ${t('case.respond_by')} ${fmt(c.respond_by)}`,
      c.patient?.reference ? ` · ${c.patient.reference}` : ''));
}

export default async function cases(main) {
  const list = $('#case-list', main);
  const more = $('#more', main);
  const filter = $('#case-filter', main);
  let cursor = null;
  async function load(reset) {
    if (reset) { cursor = null; list.replaceChildren(); }
    const page = await api(`/cases${query({ status: filter.status.value, limit: 50, cursor })}`);
    list.append(...page.items.map(caseItem));
    if (!list.children.length) list.append(h('p', { class: 'muted', text: t('cases.none') }));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  filter.status.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));
  await load(true);
}
