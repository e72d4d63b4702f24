// The note editor. Every pause in typing saves a new version with If-Match: the ETag this
// page last read. The text typed here is kept on the device, with the version it was typed
// on, until the server has it. A version saved meanwhile by someone else (a 412, or found
// on opening) or a note signed meanwhile is never overwritten unasked: theirs is shown
// beside the form, and the writer keeps hers or takes theirs. Signing makes it final;
// corrections are addenda. The referring clinician acknowledges a signed note here too.
// The page is titled by the note's kind; an addendum names the signed note it amends. A
// note that is not this person's to see shows "not found" in place of all of it (app.js).
// Signing a note that does not yet say enough (the API's 422) is refused beside each field
// it names, in her words (`invalid.<code>`), and her text stays.
// The Follow-up plan is text for the clinic: beside it, the editor says that a follow-up
// with a date and an owner is planned on the case page, and links to its form. Signed with a
// plan while the case has no open follow-up, the note stays on screen as signed, and says
// so, with "Plan the follow-up"; a case with one already goes back to the case as before.
import { $, ApiError, all, api, fmt, h, label, navigate, pill, say, session, t, userName } from '../core.js';
import { drafts } from '../drafts.js';
import { TAKES_FOLLOW_UPS, facility } from '../case_parts.js';

const FIELDS = ['assessment', 'recommendations', 'follow_up_plan', 'red_flags', 'referral_advice'];

export default async function noteEditor(main, { note_id: id }) {
  const form = $('#note-form', main);
  const stateEl = $('#save-state', main);
  const choice = $('#note-choice', main);
  const BACKUP = `console:note-backup:${id}`;
  const me = session.me;
  let etag = null;
  let note = null; // the latest version the server gave this page
  let base = null; // the version the form's text was typed on
  let choosing = false; // a newer version is shown beside hers: nothing saves until she chooses
  let timer = null;
  let saving = null;
  let dirty = false;
  let kase = null; // the note's case: its question beside the note, and who writes it
  let writer = false; // the API's rule: only the case's specialists change and sign its notes

  const state = (s, text) => { stateEl.dataset.state = s; stateEl.textContent = text ?? t(`note.state_${s}`); };
  const body = () => Object.fromEntries(FIELDS.map((f) => [f, form[f].value]));
  const fill = (fields) => { for (const f of FIELDS) form[f].value = fields[f] ?? ''; };
  const differing = (a, b) => FIELDS.filter((f) => (a[f] ?? '') !== (b[f] ?? ''));
  const keep = () => drafts.put(BACKUP, { base, fields: body() });
  function kept() {
    const k = drafts.get(BACKUP);
    if (!k) return null;
    return k.fields ? k : { base: null, fields: k }; // a backup from before versions were kept
  }

  async function read() {
    const r = await api(`/notes/${id}`, { raw: true });
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
    note = await r.json();
    etag = r.headers.get('ETag');
  }

  // Their text or hers, field by field where they differ, with what she may do about it.
  function offer(text, shown, fields, actions) {
    $('#note-choice-text', main).textContent = text;
    $('#note-choice-fields', main).replaceChildren(...fields.flatMap((f) =>
      [h('dt', { text: t(`field.${f}`) }), h('dd', { text: shown[f] || '—' })]));
    $('#note-choice-actions', main).replaceChildren(...actions.map(([key, fn, cls]) =>
      h('button', { type: 'button', class: cls, onclick: fn, text: t(key) })));
    choice.hidden = false;
  }
  const settle = () => { choosing = false; choice.hidden = true; $('#note-sign', main).disabled = false; };

  function chooseBetween() {
    choosing = true;
    $('#note-sign', main).disabled = true;
    state('conflict');
    offer(t('note.conflict', { version: note.version }), note, differing(body(), note), [
      ['note.keep_mine', () => { settle(); base = note.version; dirty = true; keep(); save(); }, ''],
      ['note.take_theirs', () => { settle(); fill(note); base = note.version; dirty = false; drafts.drop(BACKUP); state('idle'); }, 'secondary'],
    ]);
  }

  function unsavedAfterSigning(fields) {
    const actions = [['note.discard_unsaved', () => { drafts.drop(BACKUP); choice.hidden = true; }, 'secondary']];
    if (me.role === 'specialist') {
      actions.unshift(['note.addendum_with_it', () => addendum(fields), '']);
    }
    offer(t('note.unsaved_after_sign'), fields, differing(fields, note), actions);
  }

  async function addendum(fields = {}) {
    try {
      const made = await api(`/cases/${note.case_id}/notes`, { json: { kind: 'addendum', amends_id: id, ...fields } });
      drafts.drop(BACKUP);
      navigate(`/notes/${made.id}`);
    } catch (err) { say(err.message, 'error'); }
  }

  // A refusal to sign: the fields it names are marked, each with why beside it, and the
  // kind of refusal above the button she pressed. Typing in a field clears its mark.
  function refused(err) {
    const box = $('#note-problem', main);
    clearProblems();
    for (const e of err.problem.errors || []) {
      const f = (e.pointer || '').replace(/^\//, '');
      if (!FIELDS.includes(f)) continue;
      const hint = $(`#note-${f}-problem`, main);
      hint.textContent = e.code && t(`invalid.${e.code}`) !== `invalid.${e.code}` ? t(`invalid.${e.code}`, { limit: e.limit ?? '' }) : e.detail;
      hint.hidden = false;
      form[f].setAttribute('aria-invalid', 'true');
      describe(f, hint.id);
    }
    box.textContent = err.message;
    box.hidden = false;
  }
  // The service's rule for signing (app/notes/models.py NEEDED_TO_SIGN, rendered with the
  // page): a note it would refuse is said to need more before "Sign this note?" is asked.
  function notYetSignable() {
    const needed = JSON.parse(form.dataset.neededToSign || '{}')[note.kind];
    const blank = FIELDS.filter((f) => !form[f].value.trim());
    const missing = needed ? needed.filter((f) => blank.includes(f)) : blank.length === FIELDS.length ? blank : [];
    if (!missing.length) return null;
    const code = needed ? 'required_to_sign' : 'one_required_to_sign';
    return new ApiError(422, {
      type: 'note-incomplete', detail: t('problem.note-incomplete'),
      errors: missing.map((f) => ({ pointer: `/${f}`, code })),
    });
  }
  // The service's limit for each field (app/notes/schemas.py, rendered with the page): a
  // field over it is named as she writes, and the note waits on her device until it fits.
  // Not cut short: a maxlength would drop the end of what she pasted, unseen.
  const limitOf = (f) => Number(form[f].dataset.limit) || Infinity;
  // Counted as the service counts (characters, not UTF-16 units: an emoji is one).
  const length = (f) => [...form[f].value].length;
  const tooLong = () => FIELDS.filter((f) => length(f) > limitOf(f));
  function markTooLong(f) {
    const hint = $(`#note-${f}-problem`, main);
    hint.textContent = t('invalid.string_too_long', { limit: limitOf(f) });
    hint.hidden = false;
    form[f].setAttribute('aria-invalid', 'true');
    describe(f, hint.id);
  }
  function clearField(f) {
    $(`#note-${f}-problem`, main).hidden = true;
    form[f].removeAttribute('aria-invalid');
    describe(f);
  }
  // What describes a field: its refusal, when there is one, and its help line, if it has one
  // (the follow-up plan's).
  function describe(f, problem) {
    const ids = [problem, $(`#note-${f}-help`, main)?.id].filter(Boolean);
    if (ids.length) form[f].setAttribute('aria-describedby', ids.join(' '));
    else form[f].removeAttribute('aria-describedby');
  }

  // The case page's form for a new follow-up (case.html); app.js brings it into view.
  const followUpsHref = () => `/cases/${note.case_id}#followup-form`;

  // Whether the case has a follow-up still to do (one with a date and an owner). Unknown (the
  // read failed) counts as yes: she is not told of a gap that may not be there.
  // A follow-up planned on the case (open, or done or missed since) carries the plan; one
  // cancelled does not.
  async function followUpPlanned() {
    const page = await api(`/follow-ups?case_id=${encodeURIComponent(note.case_id)}&limit=200`).catch(() => null);
    return !page || page.items.some((fu) => fu.status !== 'cancelled');
  }
  // Signed with a plan that no follow-up carries: said, with the way to plan one (the
  // focus moves to it only when she has just signed).
  function planUnowned(focus = true) {
    const box = $('#note-plan-unowned', main);
    const go = $('#note-plan-go', main);
    go.href = followUpsHref();
    box.hidden = false;
    if (focus) go.focus();
  }
  // Who may plan one (the API's rule): the case's specialists, the facility, the staff; on a
  // case that still takes follow-ups.
  const mayPlan = () => Boolean(kase) && TAKES_FOLLOW_UPS.has(kase.status)
    && (writer || ['clinician', 'coordinator', 'admin'].includes(me.role));
  function clearProblems() {
    for (const f of FIELDS) clearField(f);
    $('#note-problem', main).hidden = true;
  }

  // The note's own name (a progress note is not a consult note), in the heading and the tab.
  function title() {
    const name = label('note_kind', note.kind);
    $('#note-title', main).textContent = name;
    document.title = `${name} · ${t('app.name')}`;
  }

  // An addendum says which signed note it amends: its kind, when and by whom it was signed.
  async function amends() {
    const line = $('#note-amends', main);
    if (!note.amends_id) { line.hidden = true; return; }
    const earlier = await api(`/notes/${note.amends_id}`);
    const signer = earlier.signed_by_id || earlier.author_id;
    const who = signer === me.id ? me.name : await userName(signer);
    const vars = { note: label('note_kind', earlier.kind), at: fmt(earlier.signed_at || earlier.updated_at), who };
    line.replaceChildren(h('a', {
      href: `/notes/${earlier.id}`, text: t(who ? 'note.amends' : 'note.amends_unnamed', vars),
    }));
    line.hidden = false;
  }

  // Signed, the note is a document: its text in blocks (the fields it has), who signed it
  // and when, in her time; no longer a form.
  async function signedDocument() {
    $('#note-document-body', main).replaceChildren(...FIELDS.filter((f) => note[f]).flatMap((f) =>
      [h('dt', { text: t(`field.${f}`) }), h('dd', { text: note[f] })]));
    const signer = note.signed_by_id || note.author_id;
    const who = signer === me.id ? me.name : await userName(signer);
    $('#note-signed-by', main).textContent = t(who ? 'note.signed_by' : 'note.signed_on', { who, at: fmt(note.signed_at) });
  }

  // The note's case, once: who may write (its assigned specialist, or a specialist added
  // to it, as app/notes says), and what the note answers. A case the link cannot read
  // leaves a specialist the form: the API decides, and says so if not.
  async function theCase() {
    if (kase) return;
    kase = await api(`/cases/${note.case_id}`).catch(() => null);
    if (me.role !== 'specialist') writer = false;
    else if (!kase || kase.assigned_specialist_id === me.id) writer = true;
    else {
      const parts = await all(`/cases/${note.case_id}/participants`).catch(() => []);
      writer = parts.some((x) => x.user_id === me.id && x.role === 'specialist');
    }
    if (!kase) return;
    // What the specialist answers, read-only; the summary folded on a phone.
    $('#note-case-question', main).textContent = kase.question;
    const summary = $('#note-case-summary', main);
    $('#note-case-summary-text', main).textContent = kase.summary || '';
    summary.hidden = !kase.summary;
    summary.open = !matchMedia('(max-width: 40em)').matches;
    $('#note-case', main).hidden = false;
  }

  // A draft read by someone who does not write it: its text as it stands, no form.
  function draftDocument() {
    $('#note-document-body', main).replaceChildren(...FIELDS.filter((f) => note[f]).flatMap((f) =>
      [h('dt', { text: t(`field.${f}`) }), h('dd', { text: note[f] })]));
    $('#note-signed-by', main).textContent = '';
  }

  async function load() {
    await read();
    await theCase();
    title();
    $('#note-page', main).hidden = false;
    base = note.version;
    fill(note);
    dirty = false;
    settle();
    const signed = note.status === 'signed';
    // A draft someone else writes (an interpreter, the clinic, a coordinator): read, not typed in.
    const readOnly = !signed && !writer;
    const mine = readOnly ? null : kept();
    if (mine && !differing(mine.fields, note).length) drafts.drop(BACKUP);
    else if (mine && signed) unsavedAfterSigning(mine.fields);
    else if (mine) {
      // Hers, typed on this version: carry on. Typed on an older one: the two side by side.
      fill(mine.fields);
      dirty = true;
      if (mine.base !== note.version) { base = mine.base; chooseBetween(); }
    }
    $('#note-status', main).replaceWith(Object.assign(pill('note_status', note.status), { id: 'note-status' }));
    $('#back-to-case', main).href = `/cases/${note.case_id}`;
    $('#note-plan-link', main).href = followUpsHref();
    for (const el of form.elements) el.disabled = signed || readOnly;
    form.hidden = signed || readOnly;
    $('#note-document', main).hidden = !signed && !readOnly;
    if (signed) await signedDocument();
    else if (readOnly) draftDocument();
    // Said whenever the signed note is opened, not only at signing: a specialist who moved on
    // and the clinic that reads the note later are reminded until a follow-up is planned.
    $('#note-plan-unowned', main).hidden = true;
    if (signed && (note.follow_up_plan || '').trim() && mayPlan() && !(await followUpPlanned())) {
      planUnowned(false);
    }
    $('#note-sign', main).hidden = signed || readOnly;
    const drafted = $('#note-drafted-by', main);
    drafted.hidden = signed || readOnly || !note.author_id || note.author_id === me.id;
    if (!drafted.hidden) {
      const who = await userName(note.author_id);
      drafted.textContent = t(who ? 'note.drafted_by' : 'note.drafted_by_other', { who });
    }
    const ack = signed && !note.acknowledged_at && me.role === 'clinician';
    $('#note-ack', main).hidden = !ack;
    $('#note-addendum', main).hidden = !(signed && me.role === 'specialist' && note.kind !== 'addendum');
    $('#note-after', main).hidden = !ack && $('#note-addendum', main).hidden;
    if (signed) {
      state('signed', note.acknowledged_at ? `${t('note.acknowledged')} ${fmt(note.acknowledged_at)}` : t('note.state_signed'));
    } else if (readOnly) state('read_only', t('note.read_only'));
    else if (!choosing) state('idle');
    await versions();
  }

  async function versions() {
    const items = await all(`/notes/${id}/versions`);
    $('#version-list', main).replaceChildren(...items.reverse().map((v) =>
      h('li', { text: `${t('note.version_head', { version: v.version })} · ${fmt(v.created_at)} · ${label('note_status', v.status)}` })));
  }

  async function save() {
    clearTimeout(timer);
    if (!dirty || choosing || note?.status === 'signed') return;
    if (saving) { await saving; if (!dirty) return; }
    const over = tooLong();
    if (over.length) { over.forEach(markTooLong); state('error', t('note.too_long')); return; }
    const sent = body();
    dirty = false;
    state('saving');
    saving = (async () => {
      try {
        const r = await api(`/notes/${id}`, { method: 'PATCH', json: sent, headers: { 'If-Match': etag }, raw: true });
        if (r.status === 412) {
          dirty = true;
          keep();
          await read(); // theirs, to show beside hers; her text stays in the form
          if (note.status === 'signed') await load();
          else chooseBetween();
          return;
        }
        if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
        note = await r.json();
        etag = r.headers.get('ETag');
        base = note.version;
        if (dirty) keep();
        else drafts.drop(BACKUP);
        state('saved', t('note.saved', { version: note.version, at: fmt(note.updated_at) }));
        versions().catch(() => null);
      } catch (err) {
        dirty = true;
        if (err instanceof ApiError) {
          state('error', err.message);
          if (err.status === 422) refused(err); // the fields it names, each marked
        } else { state('offline'); timer = setTimeout(save, 5000); }
      }
    })();
    await saving;
    saving = null;
  }

  form.addEventListener('input', (e) => {
    if (FIELDS.includes(e.target.name)) {
      clearField(e.target.name);
      if (length(e.target.name) > limitOf(e.target.name)) markTooLong(e.target.name);
    }
    dirty = true;
    keep(); // kept on the device until the server has it
    clearTimeout(timer);
    if (!choosing) timer = setTimeout(save, 800);
  });
  // Another tab's save clears the device's copy: a tab left with unsaved text keeps it again.
  const onHide = () => { if (dirty) keep(); };
  window.addEventListener('pagehide', onHide);

  // One signing at a time: a double click asks once and signs once (a second sign would
  // be refused as "signed and final" after the first succeeded). The button is held while
  // it goes, and given back only if the note is still a draft.
  let signing = false;
  $('#note-sign', main).addEventListener('click', async (e) => {
    if (signing) return;
    signing = true;
    const button = e.currentTarget;
    button.disabled = true;
    let signed = false;
    try {
      await save();
      if (dirty || choosing) { say(t('note.save_first'), 'error'); return; }
      const unsignable = notYetSignable();
      if (unsignable) { refused(unsignable); return; } // said before she is asked, not after
      if (!confirm(t('note.confirm_sign'))) return;
      const done = await api(`/notes/${id}/sign`, { json: {}, headers: { 'If-Match': etag } });
      signed = true;
      drafts.drop(BACKUP);
      say(t('note.signed'));
      if ((done.follow_up_plan || '').trim() && !(await followUpPlanned())) {
        await load(); // the note as signed, a document now
        planUnowned();
        return;
      }
      navigate(`/cases/${note.case_id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) refused(err);
      else say(err.message, 'error');
    } finally {
      signing = false;
      if (!signed) button.disabled = choosing;
    }
  });
  $('#note-addendum', main).addEventListener('click', () => addendum());
  $('#note-ack', main).addEventListener('click', async () => {
    try {
      await api(`/notes/${id}/acknowledge`, { json: {}, headers: { 'If-Match': etag } });
      await load();
    } catch (err) { say(err.message, 'error'); }
  });

  await load();
  amends().catch(() => null); // a line more: the editor does not wait for it
  // What the facility has, beside the advice being written: for the specialist writing it.
  // To one reading it (the clinic, once signed), that card stood between the question and
  // the advice, on a phone a screen or more. Not awaited: the editor (and its save on
  // leaving) does not wait for it, and works without it (the card stays hidden).
  if (writer && note.status !== 'signed') {
    (kase ? Promise.resolve(kase) : api(`/cases/${note.case_id}`))
      .then((k) => facility(main, k.organization_id, me))
      .catch(() => null);
  }
  return () => {
    clearTimeout(timer);
    window.removeEventListener('pagehide', onHide);
    if (dirty) save();
  };
}
