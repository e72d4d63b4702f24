// The open follow-ups she can see, across her cases: the late ones first, then those to
// come, each soonest due first; what is to be done, by whom, and for which case (its
// question comes with the list: no read of each case, each an audited access to a record).
// A follow-up is ended on its case's page, where the link leads to it.
import { $, COLON, LinkError, all, busy, fmt, h, query, session, t, userName } from '../core.js';

const MAX = 500; // each list, newest planned first: past this she is told some were left out

function item(fu, names) {
  const who = fu.assignee_id === session.me.id ? t('followups.me') : names.get(fu.assignee_id) || t('followups.someone');
  return h('li', { class: 'item', data: { followUpId: fu.id } },
    h('div', { class: 'item-head' },
      h('a', { href: `/cases/${fu.case_id}#followup-${fu.id}`, text: fu.description }),
      fu.overdue ? h('span', { class: 'pill overdue', text: t('status.overdue') }) : null),
    h('div', { class: 'muted', text: [`${t('field.due_at')}${COLON} ${fmt(fu.due_at)}`,
      `${t('field.assignee')}${COLON} ${who}`].join(' · ') }),
    h('div', { class: 'muted clamp', text: `${t('followups.for_case')}${COLON} ${fu.case_question}` }));
}

const soonest = (a, b) => new Date(a.due_at) - new Date(b.due_at);

export default async function followups(main) {
  const mine = $('#filter-mine', main);
  const msg = $('#followups-msg', main);
  // Her choice is kept in the address (Back from a case finds it as she left it); a
  // specialist starts with her own, the others with everyone's on their cases.
  const asked = new URLSearchParams(location.search).get('mine');
  mine.checked = asked === null ? session.me.role === 'specialist' : asked === '1';
  let shown = null; // the filter the list on the page was read with
  let latest = 0; // a later change of the box wins over a slower earlier read

  async function read() {
    const n = ++latest;
    const only = mine.checked;
    const base = { assignee_id: only ? session.me.id : null };
    let late;
    let coming;
    try {
      [late, coming] = await Promise.all([
        all(`/follow-ups${query({ ...base, overdue: 'true' })}`, MAX),
        all(`/follow-ups${query({ ...base, status: 'open', overdue: 'false' })}`, MAX),
      ]);
    } catch (err) {
      if (n !== latest || !main.isConnected) return;
      msg.textContent = err instanceof LinkError ? err.message : `${t('error.generic')} ${err.message}`;
      if (shown !== null) mine.checked = shown; // the box says what the list shows
      return;
    }
    const people = [...new Set([...late, ...coming].map((fu) => fu.assignee_id))].filter((id) => id !== session.me.id);
    const names = new Map(await Promise.all(people.map(async (id) => [id, await userName(id)])));
    if (n !== latest || !main.isConnected) return; // a later read, or she has left the page
    shown = only;
    history.replaceState(history.state, '', `/follow-ups?mine=${only ? 1 : 0}`);
    late.sort(soonest);
    coming.sort(soonest);
    $('#late-list', main).replaceChildren(...late.map((fu) => item(fu, names)));
    $('#coming-list', main).replaceChildren(...coming.map((fu) => item(fu, names)));
    $('#late', main).hidden = !late.length;
    $('#coming', main).hidden = !coming.length;
    const cut = late.more || coming.more ? ` ${t('followups.cut')}` : '';
    msg.textContent = late.length || coming.length
      ? t('followups.counts', { late: late.length, coming: coming.length }) + cut
      : t(only ? 'followups.none_mine' : 'followups.none_open');
  }

  mine.addEventListener('change', () => busy(main, read));
  await busy(main, read);
}
