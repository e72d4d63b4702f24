// A case submitted while the link was down waits on the device: the intake's draft, marked
// pending. It is sent from whatever page is open when the link returns, not only from the
// intake, so an emergency does not wait for someone to open that page again. Its own
// Idempotency-Keys (the case's, the photo's) make every retry safe.
import { ApiError, api, say, session, t } from './core.js';
import { drafts, files } from './drafts.js';

export const draftKey = (me) => `console:case-draft:${me.id}`;
let inFlight = null;

// One send at a time in this page: the same key twice at once would be a 409 (in flight).
// Answers null (nothing pending), {sent, photoRefused}, {refused} (the service said no:
// the person must change something) or {offline}.
export function sendPending(me) {
  inFlight ??= attempt(me).finally(() => { inFlight = null; });
  return inFlight;
}

async function attempt(me) {
  const KEY = draftKey(me);
  const PHOTO = `${KEY}:photo`;
  const draft = drafts.get(KEY);
  if (!draft?.pending) return null;
  try {
    if (!draft.caseId) {
      const created = await api('/cases', { json: draft.fields, key: draft.key });
      draft.caseId = created.id;
      drafts.put(KEY, draft);
    }
    let photoRefused = null;
    const photo = await files.get(PHOTO);
    if (photo) {
      const body = new FormData();
      body.append('file', photo, photo.name || 'photo.jpg');
      try {
        await api(`/cases/${draft.caseId}/attachments`, { body, key: draft.photoKey });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err; // the link: retried as the case is
        photoRefused = err.message; // the case is made; the case's page takes another photo
      }
    }
    drafts.drop(KEY);
    await files.drop(PHOTO);
    return { sent: draft.caseId, photoRefused };
  } catch (err) {
    if (!(err instanceof ApiError)) return { offline: true };
    draft.pending = false;
    drafts.put(KEY, draft);
    return { refused: err };
  }
}

// Every page but the intake (which shows its own progress): a pending case is sent at once,
// when the browser says the link is back, and every 15 s meanwhile.
let timer = null;
let listener = null;
function unwatch() {
  clearInterval(timer);
  if (listener) window.removeEventListener('online', listener);
  timer = listener = null;
}
export function watchPending(onIntake) {
  const me = session.me;
  unwatch();
  if (!me || onIntake || !drafts.get(draftKey(me))?.pending) return;
  listener = async () => {
    const r = await sendPending(me);
    if (!r?.offline) unwatch();
    if (r?.sent) say(r.photoRefused ? `${t('intake.sent_later')} ${t('intake.sent_photo_refused')}` : t('intake.sent_later'));
    else if (r?.refused) say(t('intake.refused_later'), 'error');
  };
  timer = setInterval(listener, 15000);
  window.addEventListener('online', listener);
  listener();
}
