// The case page's sections, each drawn from the API's answer.
import { $, COLON, ApiError, all, api, countryName, factRows, fmt, fmtNumber, formData, h, labelCells, label, lang, languageName, languageNames, localTime, navigate, pill, say, session, showProblem, t, tz, userName, zoneName } from './core.js';
import { typing } from './drafts.js';
import { replanForm } from './followup_replan.js';

const NOTE_FIELDS = ['assessment', 'recommendations', 'follow_up_plan', 'red_flags', 'referral_advice'];

function recordText(e) {
  switch (e.type) {
    case 'intake': return e.question || '';
    case 'offer': case 'offer_accepted': case 'offer_declined': case 'offer_expired': case 'offer_withdrawn':
    case 'cancelled': { // a reason given is set off from whom it is about, quoted her way
      const why = e.reason || e.decline_reason;
      return why ? t('record.reason', { reason: why }) : '';
    }
    case 'note': return `${label('note_kind', e.kind)} · ${t('note.version', { version: e.version })}`;
    case 'round_recommendation': case 'follow_up':
      return e.recommendation || e.description || '';
    case 'follow_up_outcome': // which follow-up, how it ended, what came of it
      return [e.description, label('followup', e.status), e.outcome].filter(Boolean).join(' · ');
    case 'follow_up_moved': // which follow-up, to when (from when), handed on, and if it was late
      return [e.description,
        e.due_at !== e.from_due_at ? t('record.moved_when', { to: fmt(e.due_at), from: fmt(e.from_due_at) }) : '',
        e.assignee_id !== e.from_assignee_id ? t('record.moved_owner') : '',
        e.after_due ? t('record.moved_after_due') : ''].filter(Boolean).join(' · ');
    case 'feedback': return `${e.usefulness}/5${e.comment ? ` · ${e.comment}` : ''}`;
    case 'participant': return `· ${label('role', e.role)}`;
    case 'closed': return e.outcome || '';
    case 'unassigned': { // why it was taken back from its specialist
      const why = { specialist_deactivated: 'record.unassigned_deactivated', specialist_role_changed: 'record.unassigned_role_changed' }[e.reason];
      return why ? t(why) : '';
    }
    default: return '';
  }
}

// Whom an entry is about, named where the directory lets this viewer see the person.
function whoOf(e) {
  const id = e.type === 'participant' ? e.user_id : e.type.startsWith('offer') || e.type === 'assignment' || e.type === 'unassigned' ? e.specialist_id
    : e.type === 'follow_up_moved' && e.assignee_id !== e.from_assignee_id ? e.assignee_id : null; // its new owner
  if (!id) return null;
  const el = h('span', { class: 'record-who', data: { userId: id } });
  userName(id).then((name) => { if (name) el.textContent = ` · ${name}`; });
  return el;
}

// When an offer expires, said against now ("Offer expires in 9 minutes") with the time in
// her own zone, named: a bare time under the clinic's local time read as already past. Said
// again as each minute passes, and "expired" once past.
const relative = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: 'always' }) : null;
function fromNow(ms) {
  const m = Math.ceil(ms / 60000);
  const [n, unit] = m < 90 ? [m, 'minute'] : m < 48 * 60 ? [Math.round(m / 60), 'hour'] : [Math.round(m / 1440), 'day'];
  return relative ? relative.format(n, unit) : `${n} ${unit}`;
}
export function offerExpiry(iso) {
  const el = h('span', { class: 'offer-expiry' });
  const vars = { at: fmt(iso), zone: zoneName(tz) };
  const draw = () => {
    const left = new Date(iso).getTime() - Date.now();
    el.dataset.state = left > 0 ? 'pending' : 'expired';
    el.textContent = left > 0 ? t('offer.expires_in', { ...vars, when: fromNow(left) }) : t('offer.expired_at', vars);
    // Again when the minutes said change (a card redrawn meanwhile stops its own).
    if (left > 0) setTimeout(() => { if (el.isConnected) draw(); }, (left % 60000) + 50);
  };
  draw();
  return el;
}

// What became of an offer that no longer waits, as a message key (null while pending): the
// inbox says it for an offer's link (/offers/{id}), the case's page for a case no longer hers.
export function offerStateKey(offer) {
  switch (offer.status) {
    case 'accepted': return 'inbox.state_accepted';
    case 'declined': return 'inbox.state_declined';
    case 'expired': return 'inbox.state_expired';
    // Withdrawn: the facility cancelled the case, or another specialist accepted it first.
    case 'withdrawn': return offer.case?.status === 'cancelled' ? 'inbox.state_cancelled' : 'inbox.state_taken';
    default: return null; // pending
  }
}

// What the case's facility has, beside the case and the note: advice must fit what exists
// there. Facilities are not patient data, and every role that sees a case may read its
// facility. If it cannot be read (the API says no, the link is down) the card stays
// hidden: the page works without it.
export async function facility(main, orgId, me) {
  let org;
  try {
    org = await api(`/organizations/${orgId}`);
  } catch {
    return;
  }
  const rows = [
    [t('field.name'), org.name],
    [t('field.country'), countryName(org.country)],
    [t('case.clinic_time'), localTime(org.timezone)],
    [t('case.languages'), languageNames(org.languages)],
  ];
  $('#facility-facts', main).replaceChildren(...factRows(rows));
  const text = org.local_resources?.text || '';
  const tags = org.local_resources?.tags || [];
  const said = $('#facility-resources', main);
  said.textContent = text || (tags.length ? '' : t('case.resources_none'));
  said.classList.toggle('muted', !text && !tags.length);
  if (me.role === 'clinician' && me.organization_id === orgId) {
    said.append(' ', h('a', { href: '/facility', text: t('case.resources_edit') }));
  }
  $('#facility-tags', main).replaceChildren(...tags.map((tag) => h('li', { text: tag })));
  $('#facility', main).hidden = false;
}

// Her feedback as she last gave it (sending again replaces it): the form shows it. Each
// clinician of the facility gives her own (the service keeps one per clinician and case):
// another's is not hers to resend.
export function feedback(main, rec) {
  const me = session.me?.id;
  const given = rec.entries.filter((e) => e.type === 'feedback' && e.author_id === me).at(-1);
  const form = $('#feedback-form', main);
  $('#feedback-given', main).hidden = !given;
  if (!given) return;
  $('#feedback-given', main).textContent = t('feedback.given', { when: fmt(given.at) });
  // Filled once per revision: a redraw (a live frame) must not undo what she is typing.
  const seen = `${given.id}:${given.revision}`;
  if (form.dataset.filled === seen) return;
  form.dataset.filled = seen;
  form.usefulness.value = String(given.usefulness);
  form.changed_management.checked = !!given.changed_management;
  form.comment.value = given.comment || '';
}

export function record(main, rec) {
  const planned = new Map(rec.entries.filter((e) => e.type === 'follow_up').map((e) => [e.id, e.description]));
  for (const e of rec.entries) if (e.type === 'follow_up_outcome' || e.type === 'follow_up_moved') e.description = planned.get(e.id);
  $('#record-list', main).replaceChildren(...rec.entries.map((e) =>
    h('li', { data: { type: e.type } }, h('time', { datetime: e.at, text: fmt(e.at) }), ' · ',
      h('strong', { text: label('record', e.type) }), whoOf(e), ' ', recordText(e))));
}

// Who signed a note and when, in her time: the signer named where the directory lets this
// viewer see her (the line is said without the name until then).
function signedBy(n) {
  const el = h('span', { class: 'muted signed-by', text: t('note.signed_on', { at: fmt(n.at) }) });
  const id = n.signed_by_id || n.author_id;
  const named = id && id === session.me?.id ? Promise.resolve(session.me.name) : id ? userName(id) : null;
  named?.then((who) => { if (who) el.textContent = t('note.signed_by', { who, at: fmt(n.at) }); });
  return el;
}

export async function notes(main, kase, rec, { local, mine, me, reload }) {
  const acknowledged = new Set(rec.entries.filter((e) => e.type === 'note_acknowledged').map((e) => e.id));
  const signed = rec.entries.filter((e) => e.type === 'note');
  const box = $('#note-list', main);
  box.replaceChildren(...signed.map((n) => {
    const done = acknowledged.has(n.id);
    return h('article', { class: 'item', data: { noteId: n.id } },
      h('div', { class: 'item-head' }, h('strong', { text: label('note_kind', n.kind) }),
        signedBy(n),
        done ? h('span', { class: 'pill', data: { state: 'open' }, text: t('note.acknowledged') }) : null),
      h('dl', { class: 'note-body' }, NOTE_FIELDS.filter((f) => n[f]).flatMap((f) =>
        [h('dt', { text: t(`field.${f}`) }), h('dd', { text: n[f] })])),
      local && !done ? h('button', { type: 'button', class: 'ack', onclick: async () => {
        try {
          await api(`/notes/${n.id}/acknowledge`, { json: {}, headers: { 'If-Match': `"${n.version}"` } });
          say(t('note.acknowledged'));
          await reload();
        } catch (err) { say(err.message, 'error'); }
      }, text: t('action.acknowledge') }) : null);
  }));
  if (!signed.length) box.append(h('p', { class: 'muted', text: t('notes.none') }));
  $('#note-actions', main).hidden = !mine;
  // Her draft on this case, from the server: started on the laptop, found on the phone.
  const draft = mine
    ? (await all(`/cases/${kase.id}/notes?status=draft`)).filter((n) => n.author_id === me.id).at(-1)
    : null;
  const link = $('#note-draft', main);
  link.hidden = !draft;
  if (draft) link.href = `/notes/${draft.id}`;
  // One draft at a time: "Write a note" beside her draft started a second, empty one, and
  // "Continue the draft" then led to that, the first one's text out of sight.
  $('#note-new', main).hidden = Boolean(draft);
  const hasConsult = signed.some((n) => n.kind === 'consult');
  $('#note-new', main).dataset.kind = hasConsult ? 'progress' : 'consult';
}

async function thumb(a) {
  const r = await api(`/attachments/${a.id}/content`, { raw: true });
  if (!r.ok) return null;
  return URL.createObjectURL(await r.blob());
}

export async function attachments(main, kase, { canAdd }) {
  const items = await all(`/cases/${kase.id}/attachments`);
  const list = $('#attachment-list', main);
  list.replaceChildren(...items.map((a) => {
    const li = h('li', {}, h('span', { class: 'muted', text: a.filename }));
    thumb(a).then((url) => {
      if (!url) return;
      li.replaceChildren(a.content_type.startsWith('image/')
        ? h('img', { src: url, alt: `${t('attachments.photo')} ${a.filename}` })
        : h('a', { href: url, download: a.filename, text: a.filename }));
    });
    return li;
  }));
  if (!items.length) list.append(h('li', { class: 'muted', text: t('attachments.none') }));
  $('#attach-form', main).hidden = !canAdd;
}

// The case's record, read again after a change that adds to it (a follow-up planned or ended).
export async function refreshRecord(main, kase) {
  record(main, await api(`/cases/${kase.id}/record`));
}

// The case as the page last read it: a follow-up's list drawn again after a change made
// here (kept from when the page was wired) must not undo what a later read said (closed).
const shownCase = new WeakMap(); // main -> case
// What she typed as a follow-up's outcome, until it is sent: the list is drawn again at
// each live frame and change, and what she typed survives it (and a reload: drafts.js
// `typing` keeps it on the device until the follow-up is no longer open).
const typedOutcome = new WeakMap(); // main -> Map(follow-up id -> text)
// Cases that take new follow-ups (the service's rule: a closed or cancelled one takes none).
export const TAKES_FOLLOW_UPS = new Set(['submitted', 'offered', 'assigned', 'answered', 'unmatched']);

export async function followUps(main, given, me) {
  const known = shownCase.get(main);
  if (!known || known.id !== given.id || (given.version ?? 0) >= (known.version ?? 0)) shownCase.set(main, given);
  const kase = shownCase.get(main);
  const items = await all(`/follow-ups?case_id=${kase.id}`);
  const list = $('#followup-list', main);
  const typed = typedOutcome.get(main) || new Map();
  typedOutcome.set(main, typed);
  for (const fu of items) {
    const what = `outcome:${fu.id}`;
    if (fu.status !== 'open') typing.drop(me, what); // ended, here or elsewhere: nothing to keep
    else if (!typed.has(fu.id) && typing.get(me, what)) typed.set(fu.id, typing.get(me, what));
  }
  const keep = (fu, text) => { typed.set(fu.id, text); typing.put(me, `outcome:${fu.id}`, text); };
  // The others by name where the directory shows them (the people on her case), else by part.
  const named = async (id, role, part) => {
    const name = await userName(id);
    return name ? `${name} (${label('role', role)})` : t(part);
  };
  const parts = [[kase.assigned_specialist_id, 'specialist'], [kase.submitted_by_id, 'clinician']]
    .filter(([id]) => id && id !== me.id);
  const who = [[me.id, t('followups.me')],
    ...await Promise.all(parts.map(async ([id, role]) => [id, await named(id, role, `followups.${role}`)]))];
  const owner = new Map(who);
  // Whoever sees the case whole plans and ends its follow-ups, but an interpreter (the API's rule).
  const mayWork = me.role !== 'interpreter';
  $('#followup-form', main).hidden = !mayWork || !TAKES_FOLLOW_UPS.has(kase.status);
  // Done, missed and cancelled are final (the service refuses any later change of status)
  // and the buttons sit side by side on a phone: asked first, naming the follow-up and the
  // choice, then said. What was found (or why it was missed) goes with the status, in the
  // same change, from the follow-up's own field; none written, the question says so.
  const after = () => Promise.all([followUps(main, shownCase.get(main), me), refreshRecord(main, shownCase.get(main))]);
  const close = (fu, status) => async () => {
    const what = fu.description;
    const choice = label('followup', status);
    const outcome = (typed.get(fu.id) || '').trim();
    const ask = status === 'cancelled' ? t('followups.confirm_cancel', { what })
      : t(outcome ? 'followups.confirm_end' : 'followups.confirm_end_bare', { what, choice });
    if (!confirm(ask)) return;
    // A cancelled follow-up records no finding (planned by mistake): what she typed goes.
    const json = outcome && status !== 'cancelled' ? { status, outcome } : { status };
    try {
      await api(`/follow-ups/${fu.id}`, { method: 'PATCH', json, headers: { 'If-Match': `"${fu.version}"` } });
      typed.delete(fu.id);
      typing.drop(me, `outcome:${fu.id}`); // no longer open: its box is gone
      say(t('followups.recorded', { what, choice }));
      await after();
    } catch (err) { say(err.message, 'error'); }
  };
  // Drawn again only when something in it changed: a live frame leaves her typing alone.
  const drawn = JSON.stringify([mayWork, who, items.map((fu) => [fu.id, fu.version, fu.status, fu.overdue, fu.outcome, fu.due_at, fu.assignee_id])]);
  if (list.dataset.drawn !== drawn) {
    const focused = document.activeElement?.closest?.('#followup-list') ? document.activeElement.id : null;
    list.dataset.drawn = drawn;
    list.replaceChildren(...items.map((fu) => followUpItem(fu, { owner, typed, keep, mayWork, close, who, after })));
    if (!items.length) list.append(h('li', { class: 'muted', text: t('followups.none') }));
    if (focused) document.getElementById(focused)?.focus();
  }
  // Her choice of owner for the one she is planning survives the options drawn again.
  const assignee = $('#fu-assignee', main);
  const chosen = assignee.value;
  assignee.replaceChildren(...who.map(([id, text]) => h('option', { value: id, text })));
  if (who.some(([id]) => id === chosen)) assignee.value = chosen;
}

function followUpItem(fu, { owner, typed, keep, mayWork, close, who, after }) {
  const open = fu.status === 'open' && mayWork;
  const field = `fu-outcome-${fu.id}`;
  // A link to this one (the Follow-ups page's) is brought into view and marked among the rest.
  const chosen = location.hash === `#followup-${fu.id}`;
  return h('li', { id: `followup-${fu.id}`, class: chosen ? 'chosen' : null, tabindex: chosen ? -1 : null, data: { followUpId: fu.id } },
    h('div', { class: 'item-head' }, h('strong', { text: fu.description }), pill('followup', fu.status),
      fu.overdue ? h('span', { class: 'pill overdue', text: t('status.overdue') }) : null),
    h('div', { class: 'muted', text: [`${t('field.due_at')}${COLON} ${fmt(fu.due_at)}`,
      `${t('field.assignee')}${COLON} ${owner.get(fu.assignee_id) || t('followups.someone')}`].join(' · ') }),
    fu.outcome ? h('p', { class: 'fu-outcome', text: `${t('field.outcome')}${COLON} ${fu.outcome}` }) : null,
    open ? h('label', { for: field, text: t('followups.outcome_label') }) : null,
    open ? h('textarea', { id: field, name: 'outcome', rows: 2, maxlength: 4000, value: typed.get(fu.id) || '',
      oninput: (e) => keep(fu, e.target.value) }) : null,
    open ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: close(fu, 'done'), text: t('action.done') }),
      h('button', { type: 'button', class: 'secondary', onclick: close(fu, 'missed'), text: t('action.missed') }),
      // Planned by mistake (a wrong date, a duplicate): taken back, not counted as done or missed.
      h('button', { type: 'button', class: 'secondary', onclick: close(fu, 'cancelled'), text: t('action.cancel_followup') })) : null,
    open ? replanForm(fu, { who, owner: owner.get(fu.assignee_id) || t('followups.someone'), after }) : null);
}

// A candidate in words, in the coordinator's language: when she can be reached, whether she
// knows this facility (the continuity part: 1 answered the case this one follows, 0.5 helped
// the facility before), the case's languages as "French or Haitian Creole".
const soon = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: 'always' }) : null;
function availability(c) {
  if (c.available_now) return t('candidates.available_now');
  const m = c.next_window_in_minutes;
  if (m == null) return t('candidates.no_windows');
  const [n, unit] = m < 60 ? [m, 'minute'] : m < 72 * 60 ? [Math.round(m / 60), 'hour'] : [Math.round(m / 1440), 'day'];
  return t('candidates.available_in', { when: soon ? soon.format(n, unit) : `${n} ${unit}` });
}
function history(c) {
  const k = c.parts?.continuity >= 1 ? 'candidates.answered_earlier' : c.parts?.continuity > 0 ? 'candidates.helped_facility' : null;
  return k ? h('div', { class: 'muted', text: t(k) }) : null;
}
function scoreParts(c, id) {
  const parts = h('span', { id, class: 'muted', hidden: true,
    text: Object.entries(c.parts).map(([k, v]) => `${label('part', k)} ${fmtNumber(v, 2)}`).join(' · ') });
  const open = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': id,
    text: `${fmtNumber(c.score, 2)} · ${t('candidates.why_score')}`,
    onclick: () => { parts.hidden = !parts.hidden; open.setAttribute('aria-expanded', String(!parts.hidden)); } });
  return [open, ' ', parts];
}
const either = Intl.ListFormat ? new Intl.ListFormat(lang, { type: 'disjunction' }) : null;
const eitherOf = (codes) => (either ? either.format((codes || []).map(languageName)) : languageNames(codes));

export async function candidates(main, kase, reload) {
  const res = await api(`/cases/${kase.id}/candidates?explain=true`);
  const table = $('#candidate-table', main);
  const excluded = res.excluded || [];
  // Nobody to choose: said above where the table would be (nobody holds the specialty, or
  // everyone who does was left out, the reasons below), and no table of nobody.
  const none = $('#candidates-none', main);
  none.hidden = res.items.length > 0;
  none.textContent = res.items.length ? '' : t(excluded.length ? 'candidates.none_now' : 'candidates.nobody');
  table.hidden = !res.items.length;
  $('#offer-selected', main).hidden = !res.items.length;
  if (!res.items.length) table.replaceChildren();
  else table.replaceChildren(
    h('thead', {}, h('tr', {}, ...['', 'field.name', 'candidates.language', 'candidates.availability', 'candidates.load', 'candidates.score', 'field.status']
      .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
    h('tbody', {}, ...res.items.map((c, i) => h('tr', {},
      // Someone asked before is shown, not asked again, unless their offer lapsed unanswered.
      h('td', { class: 'inline' }, h('input', { type: 'checkbox', name: 'specialist_ids', value: c.specialist_id, id: `cand-${i}`, 'aria-label': c.name, disabled: !!c.offer_status && c.offer_status !== 'expired' })),
      h('td', { class: 'inline' }, h('label', { for: `cand-${i}`, text: c.name }), history(c)),
      h('td', { text: c.interpreter_needed ? t('candidates.interpreter', { languages: eitherOf(kase.languages) }) : t('candidates.speaks') }),
      h('td', { text: availability(c) }),
      h('td', { text: t('candidates.open_cases', { n: fmtNumber(c.active_cases), max: fmtNumber(c.max_active_cases) }) }),
      // The numbers behind the ranking stay, folded: the words before them say what matters.
      h('td', {}, scoreParts(c, `cand-parts-${i}`)),
      h('td', { text: c.offer_status === 'expired' ? t('candidates.ask_again') : c.offer_status ? label('offer', c.offer_status) : '' })))));
  labelCells(table);
  const reasons = (codes) => codes.map((r) => label('exclusion', r)).join(', ');
  $('#excluded-list', main).replaceChildren(...excluded.map((x) => h('li', { text: `${x.name}${COLON} ${reasons(x.reasons)}` })));
  $('#excluded', main).hidden = !excluded.length; // nobody left out: nothing to unfold
  const names = new Map(res.items.map((c) => [c.specialist_id, c.name]));
  // A refusal names each specialist who cannot be offered it, and why ("…: at_capacity").
  const refused = (err, ids) => [err.message, ...(err.problem?.errors || []).map((e) => {
    const who = names.get(ids[Number(e.pointer.split('/').pop())]) || '';
    const why = e.detail.includes(': ') ? reasons(e.detail.split(': ').pop().split(', ')) : e.detail;
    return `${who}${COLON} ${why}`;
  })].join(' — ');
  const offer = async (body, ids = []) => {
    try {
      const made = await api(`/cases/${kase.id}/offers`, { json: body });
      if (made.items.length) say(t('candidates.offered'));
      else say(t('candidates.none_offered'), 'error');
      await reload();
    } catch (err) { say(err instanceof ApiError ? refused(err, ids) : err.message, 'error'); }
  };
  const form = $('#offer-form', main);
  form.onsubmit = async (e) => {
    e.preventDefault();
    const ids = formData(form).specialist_ids || [];
    if (!ids.length) { say(t('candidates.pick'), 'error'); return; }
    await offer({ specialist_ids: ids }, ids);
  };
  $('#offer-auto', main).onclick = () => offer({ auto: true, count: 3 });
}

// A form's submit, once per page: the button held while it goes, a refusal said on the form.
export const submitter = (main) => (sel, fn) => {
  const form = $(sel, main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try { await fn(form); } catch (err) {
      if (err instanceof ApiError) showProblem(form, err); else say(t('error.offline'), 'error');
    } finally { button.disabled = false; }
  });
};

// What is missing, said beside its field (and read with it); gone once she changes it.
function besideField(el, text) {
  const id = `${el.id}-problem`;
  let line = document.getElementById(id);
  if (!line) {
    line = h('p', { id, class: 'error field-problem', role: 'alert' });
    el.after(line);
    el.setAttribute('aria-describedby', id);
    el.addEventListener('change', () => { line.hidden = true; el.removeAttribute('aria-invalid'); });
  }
  line.textContent = text;
  line.hidden = false;
  el.setAttribute('aria-invalid', 'true');
  el.focus();
}

// A count said her way: the `_one`/`_other`… key her language's plural rules pick.
const plurals = new Intl.PluralRules(lang);
function counted(key, n, vars = {}) {
  const text = t(`${key}_${plurals.select(n)}`, { n: fmtNumber(n), ...vars });
  return text.startsWith(`${key}_`) ? t(`${key}_other`, { n: fmtNumber(n), ...vars }) : text;
}

// What closing would leave waiting, read as it stands now (another device may have
// acknowledged the note or planned a follow-up meanwhile), as the question to ask before
// closing; null when nothing waits. A signed note not acknowledged can still be
// acknowledged after the case is closed; an open follow-up stays open (the service closes
// none of them) and its owner is still reminded.
async function closingAsk(kase) {
  const [rec, open] = await Promise.all([
    api(`/cases/${kase.id}/record`),
    all(`/follow-ups?case_id=${encodeURIComponent(kase.id)}&status=open`),
  ]);
  const acknowledged = new Set(rec.entries.filter((e) => e.type === 'note_acknowledged').map((e) => e.id));
  const waiting = rec.entries.filter((e) => e.type === 'note' && !acknowledged.has(e.id));
  const lines = [];
  if (waiting.length) {
    const kinds = [...new Set(waiting.map((n) => label('note_kind', n.kind)))].join(', ');
    lines.push(counted('close.unacknowledged', waiting.length, { kinds }));
  }
  if (open.length) lines.push(counted('close.open_followups', open.length));
  return lines.length ? [...lines, t('close.anyway')].join(' ') : null;
}

// Forms wired once per page (the sections above are redrawn; these stay).
export function wireForms(main, kase, reload) {
  const on = submitter(main);
  on('#close-form', async (form) => {
    // Asked first, as cancelling is, when something would be left waiting. An outcome left
    // blank is refused by the service beside its field: nothing would close, nothing asked.
    const ask = form.outcome.value.trim() ? await closingAsk(kase) : null;
    if (ask && !confirm(ask)) return;
    await api(`/cases/${kase.id}/close`, { json: { outcome: form.outcome.value } });
    say(t('close.done'));
    await reload();
  });
  on('#feedback-form', async (form) => {
    // No rating is chosen for her (a preset one would bias the outcome data): asked for.
    if (!form.usefulness.value) { besideField(form.usefulness, t('feedback.pick')); return; }
    await api(`/cases/${kase.id}/feedback`, { json: formData(form) });
    say(t('feedback.thanks'));
    await reload();
  });
  // The time she types is hers (sent as UTC, read by each in their own zone): the label
  // names her zone. A refusal (a date in the past) stays beside the field she typed it in.
  $('label[for=fu-due]', main).textContent = t('followups.due_your_time', { zone: zoneName(tz) });
  on('#followup-form', async (form) => {
    const data = formData(form);
    data.due_at = new Date(data.due_at).toISOString(); // the viewer's wall time, sent as UTC
    // The refusal's summary, by the button (made here: a case not found shows no empty one).
    let box = $('#fu-problem', main);
    if (!box) {
      box = h('p', { class: 'error', id: 'fu-problem', role: 'alert', hidden: true });
      form.querySelector('[type=submit]').before(box);
    }
    try {
      await api(`/cases/${kase.id}/follow-ups`, { json: data });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showProblem(form, err, box, { beside: true })?.focus();
      return;
    }
    box.hidden = true;
    form.reset();
    say(t('followups.planned', { what: data.description }));
    const shown = shownCase.get(main) || kase;
    await Promise.all([followUps(main, shown, session.me), refreshRecord(main, shown)]);
  });
  on('#attach-form', async (form) => {
    const file = form.file.files[0];
    if (!file) { besideField(form.file, t('attachments.pick')); return; }
    const body = new FormData();
    body.append('file', file, file.name);
    await api(`/cases/${kase.id}/attachments`, { body });
    form.reset();
    say(t('attachments.added'));
    await attachments(main, kase, { canAdd: true });
  });
  $('#note-new', main).addEventListener('click', async (e) => {
    try {
      const note = await api(`/cases/${kase.id}/notes`, { json: { kind: e.currentTarget.dataset.kind || 'consult' } });
      navigate(`/notes/${note.id}`);
    } catch (err) { say(err.message, 'error'); }
  });
}
