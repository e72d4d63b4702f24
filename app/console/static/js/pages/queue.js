// The coordinators' board: cases waiting for someone, by urgency then deadline. The inbox
// socket says when anything changed; the board is then read again from the API.
import { $, all, fmt, h, label, pill, say, t } from '../core.js';
import { InboxLive } from '../live.js';

const RANK = { emergency: 0, urgent: 1, routine: 2 };
const OPEN = new Set(['submitted', 'offered', 'assigned', 'unmatched']);

function card(c) {
  return h('li', { data: { caseId: c.id } },
    h('div', { class: 'item-head' }, h('a', { href: `/cases/${c.id}`, text: c.question }), pill('urgency', c.urgency)),
    h('div', { class: 'muted', text: `${label('specialty', c.specialty)} · ${t('case.respond_by')} ${fmt(c.respond_by)}` }));
}

export default async function queue(main) {
  const linkState = $('#link-state', main);
  let timer = null;
  async function load() {
    const [submitted, offered, unmatched, assigned] = await Promise.all(
      ['submitted', 'offered', 'unmatched', 'assigned'].map((s) => all(`/cases?status=${s}`)));
    // Past its deadline with no signed note: the server's flag (its rule and its clock).
    const overdue = [...submitted, ...offered, ...unmatched, ...assigned]
      .filter((c) => OPEN.has(c.status) && c.overdue);
    const byUrgency = (a, b) => RANK[a.urgency] - RANK[b.urgency] || Date.parse(a.respond_by) - Date.parse(b.respond_by);
    for (const [col, items] of Object.entries({ submitted, offered, unmatched, overdue })) {
      items.sort(byUrgency);
      $(`#col-list-${col}`, main).replaceChildren(...items.map(card));
      $(`#count-${col}`, main).textContent = `(${items.length})`;
    }
  }
  const live = new InboxLive({
    onState(s) { linkState.dataset.state = s; linkState.textContent = t(`room.${s}`); },
    onFrame(f) {
      if (f.type !== 'event') return;
      clearTimeout(timer);
      // A burst of events, one read; one that fails on a link just back is said.
      timer = setTimeout(() => load().catch((err) => say(err.message, 'error')), 300);
    },
  }).start();
  await load();
  return () => { clearTimeout(timer); live.stop(); };
}
