// A case submitted while the link was down waits on the device: the intake's draft, marked
// pending. It is sent from whatever page is open when the link returns, not only from the
// intake, so an emergency does not wait for someone to open that page again. Its own
// Idempotency-Keys (the case's, the photo's) make every retry safe.
import { ApiError, api, h, say, session, t } from './core.js';
import { drafts, files } from './drafts.js';

export const draftKey = (me) => `console:case-draft:${me.id}`;
let inFlight = null;

// One send at a time in this page: the same key twice at once would be a 409 (in flight).
// Answers null (nothing pending), {sent, photoRefused} (the photo's ApiError), {refused}
// (the service said no: the person must change something) or {offline}. A refusal is kept
// with the draft (`refused`: the problem as the service answered it), so the intake shows
// its reasons beside the fields whenever she opens it, on this device, tab closed or not.
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
        photoRefused = err; // the case is made; the case's page takes another photo
      }
    }
    drafts.drop(KEY);
    await files.drop(PHOTO);
    return { sent: draft.caseId, photoRefused };
  } catch (err) {
    if (!(err instanceof ApiError)) return { offline: true };
    draft.pending = false;
    draft.refused = { status: err.status, problem: err.problem };
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
// A case the service refused while she was elsewhere: a notice above every page but the
// intake (which shows the reasons beside its fields), until she sends it again or discards
// it; not the passing status line, which a slow page or a glance away would miss.
export function showRefused(onIntake) {
  const me = session.me;
  const refused = !onIntake && me && drafts.get(draftKey(me))?.refused;
  let notice = document.getElementById('case-refused');
  if (!refused) { notice?.remove(); return; }
  if (notice) return;
  notice = h('p', { id: 'case-refused', class: 'notice outbox-notice', role: 'alert' },
    t('intake.refused_later'), ' ', h('a', { href: '/cases/new', text: t('page.case_new') }));
  document.getElementById('main').before(notice);
}

export function watchPending(onIntake) {
  const me = session.me;
  unwatch();
  showRefused(onIntake);
  if (!me || onIntake || !drafts.get(draftKey(me))?.pending) return;
  listener = async () => {
    const r = await sendPending(me);
    if (!r?.offline) unwatch();
    if (r?.sent) say(r.photoRefused ? `${t('intake.sent_later')} ${t('intake.sent_photo_refused')}` : t('intake.sent_later'));
    else if (r?.refused) showRefused(document.getElementById('main')?.dataset.page === 'case_new');
  };
  timer = setInterval(listener, 15000);
  window.addEventListener('online', listener);
  listener();
}
