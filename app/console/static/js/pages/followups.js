// The open follow-ups she can see, across her cases: the late ones first, then those to
// come, each soonest due first; what is to be done, by whom, and for which case. A
// follow-up is ended on its case's page (the link leads to its list there).
import { $, COLON, all, api, fmt, h, query, session, t, userName } from '../core.js';

// A case's question, read once per case while the console is open (several follow-ups
// often share one case; a dropped read is asked again next time).
const questions = new Map(); // case id -> Promise<question | null>
function question(id) {
  if (!questions.has(id)) {
    questions.set(id, api(`/cases/${id}`).then((c) => c.question, () => { questions.delete(id); return null; }));
  }
  return questions.get(id);
}

function item(fu, names, asked) {
  const who = fu.assignee_id === session.me.id ? t('followups.me') : names.get(fu.assignee_id) || t('followups.someone');
  return h('li', { class: 'item', data: { followUpId: fu.id } },
    h('div', { class: 'item-head' },
      h('a', { href: `/cases/${fu.case_id}#followup-list`, text: fu.description }),
      fu.overdue ? h('span', { class: 'pill overdue', text: t('status.overdue') }) : null),
    h('div', { class: 'muted', text: [`${t('field.due_at')} ${fmt(fu.due_at)}`,
      `${t('field.assignee')}${COLON} ${who}`].join(' · ') }),
    h('div', { class: 'muted', text: `${t('followups.for_case')}${COLON} ${asked.get(fu.case_id) || fu.case_id}` }));
}

export default async function followups(main) {
  const mine = $('#filter-mine', main);
  const msg = $('#followups-msg', main);
  async function load() {
    const items = await all(`/follow-ups${query({ status: 'open', assignee_id: mine.checked ? session.me.id : null })}`);
    items.sort((a, b) => new Date(a.due_at) - new Date(b.due_at));
    const people = [...new Set(items.map((fu) => fu.assignee_id))];
    const cases = [...new Set(items.map((fu) => fu.case_id))];
    const [names, asked] = await Promise.all([
      Promise.all(people.map(async (id) => [id, await userName(id)])).then((e) => new Map(e)),
      Promise.all(cases.map(async (id) => [id, await question(id)])).then((e) => new Map(e)),
    ]);
    const late = items.filter((fu) => fu.overdue);
    const coming = items.filter((fu) => !fu.overdue);
    $('#late-list', main).replaceChildren(...late.map((fu) => item(fu, names, asked)));
    $('#coming-list', main).replaceChildren(...coming.map((fu) => item(fu, names, asked)));
    $('#count-late', main).textContent = `(${late.length})`;
    $('#count-coming', main).textContent = `(${coming.length})`;
    $('#late', main).hidden = !late.length;
    $('#coming', main).hidden = !coming.length;
    msg.textContent = items.length ? '' : t(mine.checked ? 'followups.none_mine' : 'followups.none_open');
    msg.hidden = !!items.length;
  }
  mine.addEventListener('change', () => load());
  await load();
}
