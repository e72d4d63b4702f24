// A case's live room: messages in `seq` order, resumed after a drop from the highest `seq`
// held here, and what this person sent kept (in localStorage) until the server acks it,
// then resent with its own client_msg_id: nothing is lost and nothing is stored twice.
import { $, ApiError, all, api, fmt, h, label, problemText, say, t, userName, uuid } from './core.js';
import { drafts, typing } from './drafts.js';
import { Live } from './live.js';
import { openRooms, refusal } from './room_outbox.js';

// Someone as the room names her: "Dr Ana Ruiz (Specialist)" where her name may be had (the
// directory's rule), else her part on the case.
const named = (name, role) => (name ? `${name} (${label('role', role)})` : label('role', role));

// Who wrote and when, above a message: "You · …" or "Dr Ana Ruiz (Specialist) · …".
const metaOf = (me, id, role, at, name) => `${id === me.id ? t('room.you') : named(name, role)} · ${fmt(at)}`;

// One message as the room shows it, live or kept to be read; `name`: its writer's, if known.
function messageItem(m, me, name) {
  return h('li', { class: m.sender_id === me.id ? 'mine' : '', data: { seq: m.seq, who: m.sender_id, role: m.sender_role, at: m.created_at } },
    h('span', { class: 'meta', text: metaOf(me, m.sender_id, m.sender_role, m.created_at, name) }),
    h('span', { class: 'body', text: m.body }));
}

// What she wrote in a case's room and the service does not have yet (room_outbox.js too).
const pendingKey = (kase, me) => `console:room-pending:${kase.id}:${me.id}`;

// A message of hers the service will not take, shown under the rest with its words.
const notSent = (p) => h('li', { class: 'mine refused', data: { cmid: p.client_msg_id } },
  h('span', { class: 'meta', text: t('room.not_sent') }), h('span', { class: 'body', text: p.body }));

// A cancelled case keeps its conversation, to be read (what the specialist asked and
// advised before it was cancelled): no socket and no box, as nobody answers it now.
// What she wrote offline and the case no longer takes is shown as not sent, once, as the
// live room shows a refused one: she reads her words there, and the device lets them go.
// True once it is drawn; a read that fails says so and leaves the rest of the page be.
export async function readRoom(main, kase, me) {
  openRooms.add(kase.id); // what she wrote for it is this page's to show, not to send
  $('#message-form', main).hidden = true;
  $('#typing', main).textContent = '';
  $('#presence', main).textContent = '';
  const state = $('#link-state', main);
  state.dataset.state = 'closed';
  state.textContent = t('room.kept');
  let messages;
  try {
    messages = await all(`/cases/${kase.id}/messages`, 100000); // the whole of it
  } catch (err) {
    say(err.message, 'error');
    return false;
  }
  const senders = [...new Set(messages.map((m) => m.sender_id))].filter((id) => id && id !== me.id);
  const names = new Map(await Promise.all(senders.map(async (id) => [id, await userName(id)])));
  const list = $('#messages', main);
  // Kept on the device but stored after all (its answer was lost with the link): it is
  // among the messages, not unsent. One the live room was refused just now stays in view.
  const stored = new Set(messages.filter((m) => m.sender_id === me.id).map((m) => m.client_msg_id));
  const unsent = (drafts.get(pendingKey(kase, me)) || []).filter((p) => !stored.has(p.client_msg_id));
  const refusedHere = [...list.querySelectorAll('li.refused')].filter((li) => !stored.has(li.dataset.cmid));
  list.replaceChildren(...messages.map((m) => messageItem(m, me, names.get(m.sender_id))), ...refusedHere, ...unsent.map(notSent));
  if (!list.children.length) list.append(h('li', { class: 'muted', text: t('room.none') }));
  drafts.drop(pendingKey(kase, me));
  if (unsent.length) {
    say(t('room.not_taken', { count: unsent.length }), 'error');
  }
  return true;
}

export function openRoom(main, kase, me, { onCase, onSignal, onPresence } = {}) {
  const list = $('#messages', main);
  const form = $('#message-form', main);
  const linkState = $('#link-state', main);
  const presenceEl = $('#presence', main);
  const typingEl = $('#typing', main);
  const KEY = pendingKey(kase, me);
  const TYPED = `room:${kase.id}`; // what she is writing, not yet sent (drafts.js `typing`)
  const seen = new Map(); // seq -> li
  const present = new Map(); // user id -> role
  openRooms.add(kase.id); // its messages are this room's to send while it is open
  let pending = drafts.get(KEY) || [];
  let lastSeq = 0;
  let typingTimer = null;
  let lastTyping = 0;

  // People by name where this person may look them up (the directory's rule), else by role;
  // a name that arrives later is put in where the role was said.
  const names = new Map(); // user id -> name, or null while asked / when not to be had
  const said = (id, role) => named(names.get(id), role);
  const meta = (li) => metaOf(me, li.dataset.who, li.dataset.role, li.dataset.at, names.get(li.dataset.who));
  function learn(id) {
    if (!id || id === me.id || names.has(id)) return;
    names.set(id, null);
    userName(id).then((name) => {
      if (!name) return;
      names.set(id, name);
      for (const li of list.querySelectorAll(`li[data-who="${CSS.escape(id)}"]`)) li.querySelector('.meta').textContent = meta(li);
      showPresence();
    });
  }

  function add(m) {
    if (seen.has(m.seq)) return;
    learn(m.sender_id);
    const li = messageItem(m, me, names.get(m.sender_id));
    seen.set(m.seq, li);
    lastSeq = Math.max(lastSeq, m.seq);
    // In seq order, whatever order frames and HTTP answers arrive in.
    const after = [...list.querySelectorAll('li[data-seq]')].find((el) => Number(el.dataset.seq) > m.seq);
    list.insertBefore(li, after || list.querySelector('li.pending'));
    settle(m.client_msg_id);
    list.scrollTop = list.scrollHeight;
  }

  function settle(cmid) {
    if (!pending.some((p) => p.client_msg_id === cmid)) return;
    pending = pending.filter((p) => p.client_msg_id !== cmid);
    drafts.put(KEY, pending);
    list.querySelector(`li.pending[data-cmid="${CSS.escape(cmid)}"]`)?.remove();
  }

  function refused(cmid) {
    const li = list.querySelector(`li.pending[data-cmid="${CSS.escape(cmid)}"]`);
    pending = pending.filter((p) => p.client_msg_id !== cmid);
    drafts.put(KEY, pending);
    if (!li) return;
    li.classList.replace('pending', 'refused');
    li.querySelector('.meta').textContent = t('room.not_sent');
  }

  function showPending(p) {
    list.append(h('li', { class: 'mine pending', data: { cmid: p.client_msg_id } },
      h('span', { class: 'meta', text: t('room.sending') }), h('span', { class: 'body', text: p.body })));
    // In view at once: with no link it stays the last thing said, and below the list's
    // visible part it seemed to vanish (she typed it again, a second message).
    list.scrollTop = list.scrollHeight;
  }

  async function flush() {
    for (const p of [...pending]) {
      if (live.send({ type: 'message', body: p.body, client_msg_id: p.client_msg_id })) continue;
      // No socket: the store-and-forward path, with the same client_msg_id.
      try {
        add(await api(`/cases/${kase.id}/messages`, { json: { body: p.body, client_msg_id: p.client_msg_id } }));
      } catch (err) {
        // The link is down, the session lapsed, the service is busy: kept, sent later (the
        // socket's return sends the rest). Refused for what it is: kept in view, marked.
        if (!(err instanceof ApiError) || !refusal(err.status)) return;
        refused(p.client_msg_id);
        say(err.message, 'error');
        if (err.problem.type?.endsWith('/case-cancelled')) onCase?.();
      }
    }
  }

  function showPresence() {
    const others = [...present].filter(([id]) => id !== me.id).map(([id, role]) => said(id, role));
    presenceEl.textContent = others.length ? t('room.present', { who: others.join(', ') }) : t('room.alone');
    onPresence?.();
  }

  const live = new Live(`/ws/cases/${kase.id}`, {
    resumeFrom: () => lastSeq,
    onState(s) {
      linkState.dataset.state = s;
      linkState.textContent = t(`room.${s}`);
      if (s !== 'open') { present.clear(); showPresence(); }
    },
    onFrame(f) {
      switch (f.type) {
        case 'ready': flush(); break;
        case 'message':
          add(f);
          if (f.sender_id === typingEl.dataset.who) { typingEl.textContent = ''; clearTimeout(typingTimer); } // it arrived
          break;
        case 'ack': settle(f.client_msg_id); break;
        case 'presence':
          if (f.state === 'present') for (const u of f.users) { present.set(u.user_id, u.role); learn(u.user_id); }
          else if (f.state === 'joined') { present.set(f.user_id, f.role); learn(f.user_id); }
          else present.delete(f.user_id);
          showPresence();
          break;
        case 'typing':
          typingEl.dataset.who = f.user_id || '';
          typingEl.textContent = !f.state ? '' : names.get(f.user_id) ? t('room.typing_named', { who: names.get(f.user_id) }) : t('room.typing');
          clearTimeout(typingTimer);
          typingTimer = setTimeout(() => { typingEl.textContent = ''; }, 4000);
          break;
        case 'case': onCase?.(f); break;
        case 'signal': onSignal?.(f); break;
        case 'error':
          // A message the service refused is not sent again at every reconnect: it stays
          // on the page, marked, for her to copy and change.
          if (f.client_msg_id) refused(f.client_msg_id);
          say(f.code === 'invalid-frame' ? t('room.refused') : problemText(f.code, f.detail), 'error');
          // Cancelled while she was away (a case frame is not replayed on resume): the page
          // reads the case again and keeps the conversation to read, with no box.
          if (f.code === 'case-cancelled') onCase?.(f);
          break;
        default:
      }
    },
  }).start();

  for (const p of pending) showPending(p);
  if (!form.body.value) form.body.value = typing.get(me, TYPED);
  // Another tab of hers on this case: while this box shows what was kept, it follows what
  // she types there, and empties when she sends it there (not left to be sent twice).
  const sentElsewhere = (e) => {
    if (e.key !== typing.key(me, TYPED)) return;
    const kept = (v) => (v === null ? '' : JSON.parse(v));
    if (form.body.value === kept(e.oldValue)) form.body.value = kept(e.newValue);
  };
  window.addEventListener('storage', sentElsewhere);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = form.body.value.trim();
    if (!body) return;
    const p = { client_msg_id: uuid(), body };
    pending.push(p);
    drafts.put(KEY, pending);
    showPending(p);
    form.body.value = '';
    typing.drop(me, TYPED); // it is in `pending` now, kept there until the server has it
    flush();
  });
  form.body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  form.body.addEventListener('input', () => {
    typing.put(me, TYPED, form.body.value);
    if (Date.now() - lastTyping > 2500) { lastTyping = Date.now(); live.send({ type: 'typing', state: true }); }
  });

  return {
    live,
    present,
    // Someone in the room as the room names her: "Dr Ana Ruiz (Specialist)", or the role.
    nameOf: (id) => said(id, present.get(id) || ''),
    seqs: () => [...seen.keys()],
    stop: () => {
      clearTimeout(typingTimer);
      live.stop();
      openRooms.delete(kase.id);
      window.removeEventListener('storage', sentElsewhere);
    },
  };
}
