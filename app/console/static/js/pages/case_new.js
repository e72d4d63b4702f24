// A new case. Everything typed is kept on the device as it is typed; submitting sends the
// case with the draft's own Idempotency-Key, so a send the link cut off is sent again with
// the same key when the link returns and the case is never made twice. Then the photo,
// with its own key, the same way.
import {
  $, ApiError, api, clearFieldError, fieldError, fillForm, formData, h, label, lang, navigate, say, session, showProblem, t, uuid,
} from '../core.js';
import { drafts, files, shrink } from '../drafts.js';
import { draftKey, sendPending } from '../case_outbox.js';

// The photos the service takes (app/cases/attachments.py ALLOWED, its images; the file
// input's accept lists the same). A browser that does not know a type (HEIC, often) gives
// none: the name's ending says it then. The service still reads the bytes themselves.
const PHOTO_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp', 'image/heic', 'image/heif']);
const PHOTO_NAMES = /\.(jpe?g|png|webp|hei[cf])$/i;
const isPhoto = (file) => PHOTO_TYPES.has((file.type || '').toLowerCase()) || PHOTO_NAMES.test(file.name || '');
const megabytes = (bytes) => new Intl.NumberFormat(lang, { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 })
  .format(bytes / (1024 * 1024));
const tooLarge = (bytes) => t('intake.photo_too_large', { max: megabytes(bytes) });

// Why the service refused the photo, in her words; never its English appended to her sentence.
function photoReason(err) {
  const kind = String(err?.problem?.type || '').split('/').pop();
  if (kind.endsWith('too-large') && err.problem.max_bytes) return tooLarge(err.problem.max_bytes);
  const key = `problem.${kind}`;
  return kind && t(key) !== key ? t(key) : '';
}

export default async function caseNew(main) {
  const form = $('#case-form', main);
  const state = $('#draft-state', main);
  const errorBox = $('#case-error', main);
  const preview = $('#photo-preview', main);
  // The service's limit for a file (MAX_ATTACHMENT_BYTES, rendered by the server): a photo
  // still over it once shrunk is refused here, before a slow upload that would be refused.
  const maxBytes = () => Number(form.photo.dataset.maxBytes) || 0;
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

  const fresh = () => ({ fields: {}, key: uuid(), photoKey: uuid(), caseId: null, pending: false, refused: null });
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

  // What the form or the service refused is said under its field (core.js fieldError), and
  // the box by the button sums it up; editing a field takes its mark away (core.js), and,
  // once nothing is marked, the summary. A kept refusal forgets the fields she changed.
  let boxForFields = false;
  const hideBox = () => { errorBox.hidden = true; boxForFields = false; };
  form.addEventListener('input', (e) => {
    clearTimeout(timer);
    timer = setTimeout(save, 300);
    const name = e.target.name;
    const kept = draft.refused?.problem?.errors;
    if (name && kept) {
      draft.refused.problem.errors = kept.filter((x) => {
        const at = (x.pointer || '').replace(/^\//, '').replaceAll('/', '.');
        return at !== name && !at.startsWith(`${name}.`);
      });
      if (!draft.refused.problem.errors.length) draft.refused = null;
    }
    if (boxForFields && !form.querySelector('[aria-invalid=true]')) hideBox();
  });
  // Refused on the form, before anything is sent: no specialty, no consent, a file that is
  // no photo the service takes or too large for it.
  const refuse = (el, text) => {
    clearFieldError(el);
    fieldError(el, text);
    errorBox.textContent = text;
    errorBox.hidden = false;
    boxForFields = true;
    el.focus();
  };
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
    const small = await shrink(file);
    if (maxBytes() && small.size > maxBytes()) {
      await files.drop(PHOTO);
      showPhoto(null);
      refuse(form.photo, tooLarge(maxBytes()));
      return;
    }
    await files.put(PHOTO, small);
    showPhoto(small);
  });

  async function send() {
    if (sending) return;
    sending = true;
    hideBox();
    try {
      const r = await sendPending(session.me);
      draft = drafts.get(KEY) || fresh(); // what the send left (a case id, or nothing: sent)
      if (r?.sent) {
        clearInterval(retry);
        // The case's page says what is left: a photo the service refused can go there.
        const why = r.photoRefused && photoReason(r.photoRefused);
        if (r.photoRefused) say(why ? `${t('intake.sent_photo_refused')} ${why}` : t('intake.sent_photo_refused'), 'error');
        else say(t('intake.sent'));
        navigate(`/cases/${r.sent}`);
      } else if (r?.refused) {
        // The service refused it: the person must change something; nothing is retried.
        showRefusal(r.refused)?.focus();
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
    clearTimeout(timer); // saved now: a save still due would put back a draft sent meanwhile
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
    if (chosen && form.photo.getAttribute('aria-invalid') === 'true') {
      form.photo.focus(); // still the file refused when chosen (too large)
      return;
    }
    if (!form['consent.obtained'].checked) {
      refuse(form['consent.obtained'], t('intake.consent_required'));
      return;
    }
    draft.pending = true;
    draft.refused = null;
    drafts.put(KEY, draft);
    note(t('intake.sending'));
    await send();
  });

  $('#discard', main).addEventListener('click', async () => {
    drafts.drop(KEY);
    await files.drop(PHOTO);
    draft = fresh();
    form.reset();
    for (const el of form.querySelectorAll('[aria-invalid]')) clearFieldError(el);
    hideBox();
    // reset() keeps a hidden field's value: the discarded draft's earlier case goes with it.
    form.follow_up_of.value = '';
    followUpOf = asked;
    showPhoto(null);
    note('');
    await followUp();
  });

  // The service's refusal: each reason under its field, a summary by the button.
  function showRefusal(err) {
    const first = showProblem(form, err, errorBox, { beside: true });
    boxForFields = !!first;
    return first;
  }

  const online = () => { if (draft.pending) send(); };
  window.addEventListener('online', online);
  if (draft.pending) { note(t('intake.waiting_for_link')); send(); }
  else if (draft.refused) {
    // Refused while she was away (sent from another page): why, where she will put it right.
    showRefusal(new ApiError(draft.refused.status, draft.refused.problem));
    note(t('intake.refused_kept'));
  } else if (restored) note(t('intake.restored'));

  return () => {
    clearInterval(retry);
    clearTimeout(timer);
    window.removeEventListener('online', online);
    if (previewUrl) URL.revokeObjectURL(previewUrl);
  };
}
