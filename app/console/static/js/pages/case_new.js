// A new case. Everything typed is kept on the device as it is typed; submitting sends the
// case with the draft's own Idempotency-Key, so a send the link cut off is sent again with
// the same key when the link returns and the case is never made twice. Then the photo,
// with its own key, the same way.
import {
  $, COLON, ApiError, api, clearFieldError, fieldError, fillForm, fmtNumber, formData, h, label, lang, navigate, say, session, showProblem, t, uuid,
} from '../core.js';
import { takeLanguages } from '../languages.js';
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
// The language codes the service takes (app/core/schemas.py LanguageTag: this shape, at
// most 35 characters; app/cases/schemas.py: at most 10), checked here as well so that a
// wrong code is said with everything else wrong, not one round trip later.
const plural = new Intl.PluralRules(lang);

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
  const problems = $('#case-problems', main);
  const preview = $('#photo-preview', main);
  // The service's limit for a file (MAX_ATTACHMENT_BYTES, rendered by the server): a photo
  // still over it once shrunk is refused here, before a slow upload that would be refused.
  const maxBytes = () => Number(form.photo.dataset.maxBytes) || 0;
  const KEY = draftKey(session.me);
  const PHOTO = `${KEY}:photo`;
  let timer = null;
  let retry = null;
  let sending = false;
  let sent = false; // this form's case went: nothing more leaves from it
  let previewUrl = null;
  // Held from the first tap until the case is refused, waits for the link, or has gone and
  // the next page opens: a second tap sent the form again, and a tap in the moment the next
  // page loaded made a second case (a new key by then), without the photo.
  const submitButton = form.querySelector('[type=submit]');

  // The specialty is chosen, never defaulted: a first, empty choice, shown until she picks
  // one (the select is required), then the specialties in her language's order.
  const specialties = await api('/specialties');
  const byLabel = new Intl.Collator(lang).compare;
  const choices = specialties.map((s) => ({ code: s.code, text: label('specialty', s.code), nobody: s.ready_specialists === 0 }))
    .sort((a, b) => byLabel(a.text, b.text));
  // One nobody can take now is said in the list and under it: chosen, her case would wait
  // unmatched while the coordinators look for someone; a related specialty may answer.
  const nobody = new Set(choices.filter((s) => s.nobody).map((s) => s.code));
  form.specialty.replaceChildren(
    h('option', { value: '', text: t('intake.choose_specialty') }),
    ...choices.map((s) => h('option', { value: s.code, text: s.nobody ? `${s.text} — ${t('intake.specialty_nobody')}` : s.text })),
  );
  const sayNobody = () => {
    const none = nobody.has(form.specialty.value);
    $('#specialty-nobody', main).hidden = !none;
    // Described by the hint only while it shows, beside any error fieldError put there.
    const rest = (form.specialty.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== 'specialty-nobody');
    const ids = none ? [...rest, 'specialty-nobody'] : rest;
    if (ids.length) form.specialty.setAttribute('aria-describedby', ids.join(' '));
    else form.specialty.removeAttribute('aria-describedby');
  };
  form.specialty.addEventListener('change', sayNobody);

  const fresh = () => ({ fields: {}, key: uuid(), photoKey: uuid(), caseId: null, pending: false, refused: null });
  let draft = drafts.get(KEY) || fresh();
  fillForm(form, draft.fields);
  sayNobody();

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
    sayNobody();
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

  // What the form or the service refused is said under its field (core.js fieldError), all
  // of it at once, and the summary at the top of the form says how many fields and which;
  // the box by the button keeps what is about no field, and a file refused as it is chosen.
  // Editing a field takes its mark away (core.js), and, once nothing is marked, the
  // summaries. A kept refusal forgets the fields she changed.
  let boxForFields = false;
  const hideBox = () => { errorBox.hidden = true; boxForFields = false; };
  const labelText = (el) => (el.id && form.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent.trim()) || el.name;
  // The marked fields in the form's order, each a link to its field; redrawn only when they
  // change (the summary is a live region: each redraw is said again). `open`: shown even if
  // it was not (a submit). Answers the fields marked.
  let summarized = null;
  function summarize(open = false) {
    const els = [...form.querySelectorAll('[aria-invalid=true]')].filter((el) => el.type !== 'hidden');
    if (!open && problems.hidden) return els;
    if (!els.length) {
      problems.hidden = true;
      summarized = null;
      return els;
    }
    const ids = els.map((el) => el.id || el.name).join(' ');
    if (!open && ids === summarized) return els;
    summarized = ids;
    const n = els.length;
    problems.replaceChildren(
      h('p', { text: t(plural.select(n) === 'one' ? 'intake.problems_one' : 'intake.problems_other', { count: fmtNumber(n) }) }),
      h('ul', {}, els.map((el) => h('li', {}, h('a', {
        href: `#${el.id}`,
        text: labelText(el),
        onclick: (e) => { e.preventDefault(); el.focus(); },
      })))),
    );
    problems.hidden = false;
    return els;
  }
  form.addEventListener('change', () => summarize());
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
    summarize();
  });
  // Refused on the form, before anything is sent: no specialty, no consent, a file that is
  // no photo the service takes or too large for it.
  const refuse = (el, text) => {
    clearFieldError(el);
    fieldError(el, text);
    errorBox.textContent = text;
    errorBox.hidden = false;
    boxForFields = true;
    summarize();
    el.focus();
  };

  takeLanguages(form.languages); // a draft restored, or a follow-up's languages: named too
  form.languages.addEventListener('change', save); // the codes its names became are kept

  // Everything the form can tell before anything is sent (the service's own rules,
  // app/cases/schemas.py CaseCreate, and its consent), each under its field and all at once:
  // over a slow link she never learns of one mistake per submit. The form is novalidate:
  // these are its messages. What she typed is left as it is (languages named are taken as
  // their codes before, languages.js). Answers whether any was found.
  function check() {
    let found = false;
    const mark = (el, text) => { fieldError(el, text); found = true; };
    const age = form['patient.age_years'];
    const consent = form['consent.obtained'];
    for (const el of [form.specialty, form.question, form['patient.reference'], age, form.languages, consent]) {
      clearFieldError(el);
    }
    if (form.specialty.validity.valueMissing) mark(form.specialty, t('intake.specialty_required'));
    if (!form.question.value.trim()) mark(form.question, t('intake.question_required'));
    if (!form['patient.reference'].value.trim()) mark(form['patient.reference'], t('intake.reference_required'));
    if (age.validity.badInput) mark(age, t('invalid.float_parsing'));
    else if (age.validity.rangeUnderflow) mark(age, t('invalid.greater_than_equal', { limit: fmtNumber(Number(age.min)) }));
    else if (age.validity.rangeOverflow) mark(age, t('invalid.less_than_equal', { limit: fmtNumber(Number(age.max)) }));
    // The service's rule for a tag and a case's count, as the server rendered them.
    const rule = form.languages.dataset;
    const tagPattern = new RegExp(rule.tagPattern);
    const tags = form.languages.value.split(',').map((x) => x.trim()).filter(Boolean);
    const field = labelText(form.languages);
    for (const item of tags.filter((x) => x.length > Number(rule.tagMaxLength) || !tagPattern.test(x))) {
      mark(form.languages, `${t('error.list_item', { field, item })}${COLON} ${t('invalid.language_tag')}`);
    }
    const most = Number(rule.maxItems);
    if (tags.length > most) mark(form.languages, t('invalid.too_long', { limit: fmtNumber(most) }));
    if (!consent.checked) mark(consent, t('intake.consent_required'));
    const chosen = form.photo.files[0];
    if (chosen && !isPhoto(chosen)) {
      clearFieldError(form.photo);
      mark(form.photo, t('intake.photo_type'));
    } else if (chosen && form.photo.getAttribute('aria-invalid') === 'true') {
      found = true; // still the file refused when chosen (too large): its message stays
    }
    return found;
  }
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
    if (sending || sent) return;
    sending = true;
    submitButton.disabled = true;
    hideBox();
    try {
      const r = await sendPending(session.me);
      draft = drafts.get(KEY) || fresh(); // what the send left (a case id, or nothing: sent)
      if (r?.sent) {
        sent = true;
        clearInterval(retry);
        // The case's page says what is left: a photo the service refused can go there.
        const why = r.photoRefused && photoReason(r.photoRefused);
        if (r.photoRefused) say(why ? `${t('intake.sent_photo_refused')} ${why}` : t('intake.sent_photo_refused'), 'error');
        else say(t('intake.sent'));
        // Its page, should the next page not load (the link dropping now): the form is spent.
        state.replaceChildren(t('intake.sent'), ' ', h('a', { href: `/cases/${r.sent}`, text: t('intake.open_case') }));
        state.hidden = false;
        state.scrollIntoView({ block: 'nearest' }); // above the form: in view while she waits
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
      submitButton.disabled = sent;
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (sending || sent) return; // on its way, or gone: the draft is not written again
    clearTimeout(timer); // saved now: a save still due would put back a draft sent meanwhile
    takeLanguages(form.languages); // names typed, sent as their codes
    save();
    // Checked before anything is sent: every field found wrong marked, the summary at the
    // top, the first of them focused; nothing sent.
    if (check()) {
      hideBox();
      summarize(true)[0]?.focus();
      return;
    }
    summarize(); // the marks the form took away (the service's kept ones it found right)
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
    sayNobody();
    for (const el of form.querySelectorAll('[aria-invalid]')) clearFieldError(el);
    hideBox();
    summarize();
    // reset() keeps a hidden field's value: the discarded draft's earlier case goes with it.
    form.follow_up_of.value = '';
    followUpOf = asked;
    showPhoto(null);
    note('');
    await followUp();
  });

  // The service's refusal: each of its reasons under its field, all at once, and the summary
  // at the top; the box by the button says what is about no field (or why, for a refusal
  // other than the fields' validation). Answers the field to focus.
  function showRefusal(err) {
    const first = showProblem(form, err, errorBox, { beside: true });
    const validation = String(err.problem?.type || '').endsWith('/validation-error');
    if (validation && first && errorBox.childNodes.length <= 1) errorBox.hidden = true; // its heading alone
    boxForFields = !!first;
    return summarize(true)[0] || first;
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
