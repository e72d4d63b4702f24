// A new case. Everything typed is kept on the device as it is typed; submitting sends the
// case with the draft's own Idempotency-Key, so a send the link cut off is sent again with
// the same key when the link returns and the case is never made twice. Then the photo,
// with its own key, the same way.
import { $, ApiError, api, fillForm, formData, h, label, lang, navigate, say, session, showProblem, t, uuid } from '../core.js';
import { drafts, files, shrink } from '../drafts.js';
import { draftKey, sendPending } from '../case_outbox.js';

// The photos the service takes (app/cases/attachments.py ALLOWED, its images; the file
// input's accept lists the same). A browser that does not know a type (HEIC, often) gives
// none: the name's ending says it then. The service still reads the bytes themselves.
const PHOTO_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'image/heic', 'image/heif']);
const PHOTO_NAMES = /\.(jpe?g|png|webp|hei[cf])$/i;
const isPhoto = (file) => PHOTO_TYPES.has((file.type || '').toLowerCase()) || PHOTO_NAMES.test(file.name || '');

export default async function caseNew(main) {
  const form = $('#case-form', main);
  const state = $('#draft-state', main);
  const errorBox = $('#case-error', main);
  const preview = $('#photo-preview', main);
  const KEY = draftKey(session.me);
  const PHOTO = `${KEY}:photo`;
  let timer = null;
  let retry = null;
  let sending = false;
  let previewUrl = null;

  // The specialty is chosen, never defaulted: a first, empty choice, shown until she picks
  // one (the select is required), then the specialties in her language's order.
  const specialties = await api('/specialties');
  const byLabel = new Intl.Collator(lang).compare;
  const choices = specialties.map((s) => ({ code: s.code, text: label('specialty', s.code) }))
    .sort((a, b) => byLabel(a.text, b.text));
  form.specialty.replaceChildren(
    h('option', { value: '', text: t('intake.choose_specialty') }),
    ...choices.map((s) => h('option', { value: s.code, text: s.text })),
  );

  const fresh = () => ({ fields: {}, key: uuid(), photoKey: uuid(), caseId: null, pending: false });
  let draft = drafts.get(KEY) || fresh();
  fillForm(form, draft.fields);

  // "Ask again about this patient" (a case page): a new question about the patient of an
  // earlier case. Its patient and specialty are carried over, and matching prefers the
  // specialist who answered it. A draft in progress is never overwritten: it is sent or
  // discarded first. A restored draft that is a follow-up says so too.
  const asked = new URLSearchParams(location.search).get('follow_up_of');
  let followUpOf = asked || draft.fields.follow_up_of || null;
  const followUpBox = $('#follow-up', main);
  async function followUp() {
    followUpBox.hidden = !followUpOf;
    if (!followUpOf) return;
    if (Object.keys(draft.fields).length && draft.fields.follow_up_of !== followUpOf) {
      followUpBox.textContent = t('intake.follow_up_draft');
      return;
    }
    let earlier;
    try {
      earlier = await api(`/cases/${encodeURIComponent(followUpOf)}`);
    } catch (err) {
      if (err instanceof ApiError) followUpBox.hidden = true; // not hers to see: a new case
      else followUpBox.textContent = t('error.offline');
      return;
    }
    followUpBox.replaceChildren(t('intake.follow_up'), ' ',
      h('a', { href: `/cases/${earlier.id}`, text: earlier.question }));
    if (Object.keys(draft.fields).length) return; // this follow-up's own draft, restored
    fillForm(form, {
      follow_up_of: earlier.id,
      specialty: earlier.specialty,
      patient: earlier.patient,
      languages: earlier.languages,
      interpreter_needed: earlier.interpreter_needed,
    });
    save();
  }
  const showPhoto = (blob) => {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = blob ? URL.createObjectURL(blob) : null;
    preview.hidden = !blob;
    if (blob) preview.src = previewUrl;
  };
  showPhoto(await files.get(PHOTO));

  const save = () => { draft.fields = formData(form); drafts.put(KEY, draft); };
  const note = (text) => { state.textContent = text; state.hidden = !text; };
  const restored = Object.keys(draft.fields).length > 0;
  await followUp();

  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(save, 300); });
  // Refused on the form, before anything is sent: a file that is no photo the service takes.
  const refuse = (el, text) => {
    el.setAttribute('aria-invalid', 'true');
    errorBox.textContent = text;
    errorBox.hidden = false;
    el.focus();
  };
  const unflag = (el) => {
    if (el.getAttribute('aria-invalid') !== 'true') return;
    el.removeAttribute('aria-invalid');
    errorBox.hidden = true;
  };
  form.specialty.addEventListener('change', () => { if (form.specialty.value) unflag(form.specialty); });
  form.photo.addEventListener('change', async () => {
    const file = form.photo.files[0];
    if (!file) return;
    if (!isPhoto(file)) {
      // What is shown chosen is what would go: not an earlier photo kept on the device.
      await files.drop(PHOTO);
      showPhoto(null);
      refuse(form.photo, t('intake.photo_type'));
      return;
    }
    unflag(form.photo);
    const small = await shrink(file);
    await files.put(PHOTO, small);
    showPhoto(small);
  });

  async function send() {
    if (sending) return;
    sending = true;
    errorBox.hidden = true;
    try {
      const r = await sendPending(session.me);
      draft = drafts.get(KEY) || fresh(); // what the send left (a case id, or nothing: sent)
      if (r?.sent) {
        clearInterval(retry);
        // The case's page says what is left: a photo the service refused can go there.
        if (r.photoRefused) say(`${t('intake.sent_photo_refused')} (${r.photoRefused})`, 'error');
        else say(t('intake.sent'));
        navigate(`/cases/${r.sent}`);
      } else if (r?.refused) {
        // The service refused it: the person must change something; nothing is retried.
        showProblem(form, r.refused, errorBox);
        note('');
      } else if (r?.offline) {
        note(t('intake.waiting_for_link'));
        clearInterval(retry);
        retry = setInterval(send, 5000);
      }
    } finally {
      sending = false;
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save();
    // Checked before anything is sent (the form is novalidate: its messages are these).
    if (form.specialty.validity.valueMissing) {
      refuse(form.specialty, t('intake.specialty_required'));
      return;
    }
    const chosen = form.photo.files[0];
    if (chosen && !isPhoto(chosen)) {
      refuse(form.photo, t('intake.photo_type'));
      return;
    }
    if (!form['consent.obtained'].checked) {
      form['consent.obtained'].setAttribute('aria-invalid', 'true');
      errorBox.textContent = t('intake.consent_required');
      errorBox.hidden = false;
      form['consent.obtained'].focus();
      return;
    }
    draft.pending = true;
    drafts.put(KEY, draft);
    note(t('intake.sending'));
    await send();
  });

  $('#discard', main).addEventListener('click', async () => {
    drafts.drop(KEY);
    await files.drop(PHOTO);
    draft = fresh();
    form.reset();
    for (const el of [form.specialty, form.photo]) el.removeAttribute('aria-invalid');
    errorBox.hidden = true;
    // reset() keeps a hidden field's value: the discarded draft's earlier case goes with it.
    form.follow_up_of.value = '';
    followUpOf = asked;
    showPhoto(null);
    note('');
    await followUp();
  });

  const online = () => { if (draft.pending) send(); };
  window.addEventListener('online', online);
  if (draft.pending) { note(t('intake.waiting_for_link')); send(); }
  else if (restored) note(t('intake.restored'));

  return () => {
    clearInterval(retry);
    clearTimeout(timer);
    window.removeEventListener('online', online);
    if (previewUrl) URL.revokeObjectURL(previewUrl);
  };
}
