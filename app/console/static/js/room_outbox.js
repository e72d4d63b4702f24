// Messages she wrote in a case's room while the link was down, and left the page before it
// came back: sent from whatever page is open, as a case kept on the device is
// (case_outbox.js). They waited until she opened that case again, with nothing to say so.
// Each goes with its own client_msg_id, so one the room (or another tab) sends meanwhile is
// stored once. A case's room open on this page sends its own (room.js); one the service
// refuses is kept for the room, which shows it and says why when she opens it; the page
// she is on says that some were not taken, and where to read them.
import { ApiError, api, say, session, t } from './core.js';
import { drafts } from './drafts.js';

const PREFIX = 'console:room-pending:';

// What the service refuses for good (a 4xx), not for now (a lapsed session, too many at
// once, a timeout): those wait and go again. The live room (room.js) judges the same way.
export const refusal = (status) => status >= 400 && status < 500 && ![401, 408, 429].includes(status);
export const openRooms = new Set(); // case ids whose room is open on this page (room.js)
let timer = null;
let sending = null;

function waiting(me) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k?.startsWith(PREFIX) || !k.endsWith(`:${me.id}`)) continue;
    const caseId = k.slice(PREFIX.length, -(me.id.length + 1));
    const held = (drafts.get(k) || []).filter((p) => !p.refused);
    if (held.length && !openRooms.has(caseId)) out.push([k, caseId]);
  }
  return out;
}

async function sendAll(me) {
  let sent = 0;
  let refused = 0;
  for (const [key, caseId] of waiting(me)) {
    for (const p of (drafts.get(key) || []).filter((x) => !x.refused)) {
      if (openRooms.has(caseId)) break; // its room opened meanwhile: it sends the rest
      try {
        await api(`/cases/${caseId}/messages`, { json: { body: p.body, client_msg_id: p.client_msg_id } });
        drafts.put(key, (drafts.get(key) || []).filter((x) => x.client_msg_id !== p.client_msg_id));
        sent += 1;
      } catch (err) {
        // The link is down still, the session lapsed, the service is busy: later.
        if (!(err instanceof ApiError) || !refusal(err.status)) return { sent, refused };
        // Refused: kept, marked, for the room to show and say why; not sent again.
        drafts.put(key, (drafts.get(key) || []).map((x) => (x.client_msg_id === p.client_msg_id ? { ...x, refused: true } : x)));
        refused += 1;
      }
    }
    if (!(drafts.get(key) || []).length) localStorage.removeItem(key);
  }
  return { sent, refused };
}

function attempt() {
  const me = session.me;
  if (!me || sending) return;
  sending = sendAll(me).then(({ sent, refused }) => {
    // Said where she is: before, a refusal here was silent until she opened that case.
    const sentSaid = sent ? t('room.sent_later', { count: sent }) : '';
    if (refused) say([sentSaid, t('room.refused_later', { count: refused })].filter(Boolean).join(' '), 'error');
    else if (sent) say(sentSaid);
    if (!waiting(me).length) { clearInterval(timer); timer = null; }
  }).finally(() => { sending = null; });
}

// On every page: what waits goes now, and again every 15 s and when the browser hears the
// link is back, until nothing is left.
export function watchRoomPending() {
  const me = session.me;
  if (!me || !waiting(me).length) return;
  if (!timer) timer = setInterval(attempt, 15000);
  attempt();
}
window.addEventListener('online', attempt);
