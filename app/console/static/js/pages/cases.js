import { $, api, fmt, h, label, pill, query, t } from '../core.js';

// The deadline while an answer is awaited; once answered (a signed note), when it was; a
// case cancelled or closed without an answer has no deadline left to show.
function when(c) {
  if (c.answered_at) return t('case.answered_on', { when: fmt(c.answered_at) });
  if (['answered', 'closed', 'cancelled'].includes(c.status)) return null;
  return `${t('case.respond_by')} ${fmt(c.respond_by)}`;
}

export function caseItem(c) {
  return h('div', { class: 'item', data: { caseId: c.id } },
    h('div', { class: 'item-head' },
      h('a', { href: `/cases/${c.id}`, text: c.question || c.id }),
      pill('status', c.status), pill('urgency', c.urgency)),
    h('div', { class: 'muted' },
      [label('specialty', c.specialty), when(c)].filter(Boolean).join(' · '),
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
