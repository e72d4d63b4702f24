// One round series: its occurrences (in the viewer's time and the host's), the link to join,
// who takes part, each occurrence's agenda (the suggested cases, a presenter, and the
// round's recommendations, which join each case's record) and who attended.
// Those who may edit it also move or cancel one occurrence, edit the series (a schedule
// change to a series that has met carries on as a new series: the page goes there) and
// delete it. Each of these carries If-Match (the round as this page read it): a change made
// meanwhile is shown, and what she typed stays to send again. A cancelled occurrence stays
// in the list, marked, with the reason given: nobody can join, move or tick it. A moved one
// says when it was to be (in the viewer's time, with its weekday) and the reason given.
// A schedule change that would drop a cancelled or moved occurrence (its day is not in the
// new schedule) is refused by the API, naming them: she is asked, and saves again knowingly.
// One that would start an occurrence where another was moved to is refused outright: said.
// A change from now on is offered from the next occurrence as scheduled (moved or cancelled:
// the API carries those over to it); starting later would leave it in neither series.
// "Now" is the server's: the occurrences come from its clock (a browser's may be wrong).
// A case put on an agenda by mistake, or a participant, is taken back with "Remove" (asked
// first); a case whose recommendation is recorded stays (the API refuses).
import { $, COLON, ApiError, all, api, busy, factRows, fillForm, fmt, fmtTime, fmtWall, formData, h, label, dateLocale, navigate, say, session, showProblem, t, userName, zoneChoices, zoneName } from '../core.js';
import { describeRule } from '../rrule.js';
import { rulePicker } from '../rule_picker.js';

const DAY = 86400000;
const PARTICIPANT_ROLE = { clinician: 'local_team', specialist: 'specialist', interpreter: 'interpreter' };
const FREQ_DAYS = { DAILY: 1, WEEKLY: 7, MONTHLY: 31, YEARLY: 366 };
const iso = (ms) => encodeURIComponent(new Date(ms).toISOString());

// When a moved occurrence was to be, in the viewer's time: its weekday first ("Wed 30 Dec,
// 18:00"), since a move is mostly to a nearby day; the year only when it is not the year
// it was moved to.
const shortWhen = new Intl.DateTimeFormat(dateLocale, { weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' });
const longWhen = new Intl.DateTimeFormat(dateLocale, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' });
export function movedFrom(o) {
  const was = new Date(o.original_start);
  return (was.getFullYear() === new Date(o.start).getFullYear() ? shortWhen : longWhen).format(was);
}

// How long about n repetitions of the rule take: at least the API's default 90 days, at
// most the two years it lists at a time.
function spanOf(rule, n) {
  const part = (key) => new RegExp(`(?:^|;)${key}=([^;]+)`, 'i').exec(rule || '')?.[1];
  const days = (FREQ_DAYS[(part('FREQ') || '').toUpperCase()] || 7) * (parseInt(part('INTERVAL'), 10) || 1) * n;
  return Math.min(Math.max(days, 90), 730) * DAY;
}

// A series' next n occurrences from the server's now (one under way included), and `until`:
// the instant before which they are all of its occurrences. The server's window is its now
// and 90 days on, so a series that starts later or repeats seldom is asked on, as far as n
// of its repetitions take: after the last one found or, when none, from the later of the
// series' start and 45 days on (the server found none in its 90: the middle of them, by
// this browser's clock, is as good a start as any for a clock a little wrong).
// `more`: the occurrences beyond the server's 90 days (none of them has begun).
// Cancelled ones are among them, flagged (`cancelled`), so they can be shown as such.
export async function nextOccurrences(r, n) {
  const path = `/rounds/${r.id}/occurrences`;
  const first = await api(`${path}?limit=${n}&include_cancelled=true`);
  let items = first.items;
  if (first.next_cursor || items.length >= n) return { items, more: new Set(), until: Date.parse(items.at(-1).start) + 1 };
  const from = items.length ? Date.parse(items.at(-1).end) : Math.max(Date.parse(r.starts_at), Date.now() + 45 * DAY);
  const to = from + spanOf(r.rrule, n);
  const next = await api(`${path}?limit=${n - items.length}&from=${iso(from)}&to=${iso(to)}&include_cancelled=true`);
  const seen = new Set(items.map((o) => o.original_start));
  const later = next.items.filter((o) => !seen.has(o.original_start));
  items = [...items, ...later];
  const until = next.next_cursor && items.length ? Date.parse(items.at(-1).start) + 1 : to;
  return { items, more: new Set(later.map((o) => o.original_start)), until };
}

// Only for those the participant list does not name (an attendance record of someone no
// longer taking part): GET /users/{id} hides other people from specialists and interpreters.
async function people(ids) {
  const found = await Promise.all([...new Set(ids)].map(async (uid) => [uid, { id: uid, name: await userName(uid) }]));
  return new Map(found);
}

// A rule as the server writes it (an nth weekday "+2TU") reads as the rule picker writes it.
const sameRule = (rule) => rule.replace(/([=,])\+/g, '$1');

// A specialist's double booking in the viewer's words and time: the other round by its
// title when she may read it (another facility's round she may not), both occurrences.
async function clash(problem, person) {
  const other = await api(`/rounds/${problem.conflicting_round_id}`).catch(() => null);
  return t(other ? 'rounds.clash' : 'rounds.clash_unnamed', {
    name: person?.dataset.name || t('rounds.someone'), title: other?.title, allow: t('rounds.allow_conflict'),
    theirs: fmt(problem.conflicting_occurrence_start), mine: fmt(problem.occurrence_start),
  });
}

// A button's write held while it runs (core.js holds only a form's): a double click is one.
const held = (work) => async ({ currentTarget: button }) => {
  if (button.disabled) return;
  button.disabled = true;
  try { await work(); } finally { button.disabled = false; }
};

// A schedule refused field by field, each reason with a code said in her words: headed as
// any form's fields to put right, so it is said once, in her language (not first in English).
export function saidOnce(err) {
  const errors = err.problem?.errors || [];
  const own = (e) => e.code && t(`invalid.${e.code}`) !== `invalid.${e.code}`;
  if (err.problem?.type?.endsWith('/invalid-schedule') && errors.length && errors.every(own)) err.message = t('error.fields_invalid');
  return err;
}

// What a schedule change would drop, in the viewer's time: "the cancellation of …; the
// occurrence of …, moved to …".
const lostSaid = (lost) => lost.map((x) => (x.cancelled
  ? t('rounds.lost_cancelled', { when: fmt(x.original_start) })
  : t('rounds.lost_moved', { when: fmt(x.original_start), to: fmt(x.moved_to) }))).join('; ');

// An occurrence would start where another does (the API's occurrence-slot-taken), in the
// viewer's time: a move onto a taken start, or a schedule change with an occurrence of its
// own where one was moved to. Null: the API's words, as they came.
const slotTaken = (problem, schedule) => {
  const clashes = problem.clashes || [];
  if (!clashes.length) return null;
  if (!schedule) return t('rounds.slot_taken', { when: fmt(clashes[0].moved_to) });
  return t('rounds.slot_taken_schedule', { list: clashes.map((x) => t('rounds.lost_moved', { when: fmt(x.original_start), to: fmt(x.moved_to) })).join('; ') });
};

export default async function round(main, { round_id: id }) {
  const me = session.me;
  let r = await api(`/rounds/${id}`);
  $('#round-page', main).hidden = false;
  const staff = ['coordinator', 'admin'].includes(me.role);
  const host = me.role === 'clinician' && me.organization_id === r.host_organization_id;
  const canEdit = staff || host; // the series, participants, agenda, attendance (the API decides too)
  const canRecommend = canEdit || me.role === 'specialist';

  function showFacts() {
    $('#round-title', main).textContent = r.title;
    $('#round-facts', main).replaceChildren(...factRows([
      [t('field.host'), r.host_organization_name || '—'],
      [t('field.specialty'), label('specialty', r.specialty)], [t('rounds.repeats'), describeRule(r.rrule, r.timezone)],
      [t('field.starts_at_local'), `${fmtWall(r.starts_at_local)} (${zoneName(r.timezone)})`], [t('field.duration_minutes'), r.duration_minutes],
      [t('field.teaching_topic'), r.teaching_topic || '—'],
      ...(r.next_series_id ? [[t('rounds.continues'), h('a', { href: `/rounds/${r.next_series_id}`, text: t('rounds.next_series') })]] : []),
    ]));
    const join = $('#round-join', main);
    if (r.join_url) join.href = r.join_url;
    $('#move-zone', main).textContent = `(${zoneName(r.timezone)})`;
  }
  showFacts();
  $('#attendance-help', main).hidden = !canEdit; // only those who may tick are told to

  // The coming ones from the server's now (an occurrence under way included), then the
  // four weeks before the first of them (or before the series ended: none is coming).
  // Whether an occurrence has begun (attendance is recorded from then on): by the server's
  // clock, those before the coming ones have ended and those beyond its 90 days are to
  // come; of the rest, which hold its now, the browser's clock tells.
  let coming = [];
  let beyond = new Set();
  let ended = new Set();
  let occ = [];
  let byStart = new Map();
  const begun = (o) => ended.has(o.original_start) || (!beyond.has(o.original_start) && Date.parse(o.start) <= Date.now());
  const select = $('#occurrence', main);
  // `keep`: the original start of the occurrence to choose, when it is (still) listed.
  async function loadOccurrences(keep) {
    ({ items: coming, more: beyond } = await nextOccurrences(r, 20));
    const anchor = Date.parse(coming[0]?.start || r.ends_at || new Date().toISOString());
    const past = (await api(`/rounds/${id}/occurrences?limit=50&from=${iso(anchor - 28 * DAY)}&to=${iso(anchor)}&include_cancelled=true`)).items
      .filter((o) => !coming.some((c) => c.original_start === o.original_start));
    occ = [...past, ...coming];
    ended = new Set(past.map((o) => o.original_start));
    byStart = new Map(occ.map((o) => [o.original_start, o]));
    const chosen = byStart.get(keep) || coming.find((o) => !o.cancelled) || coming[0] || occ.at(-1);
    select.replaceChildren(...occ.map((o) => h('option', {
      value: o.original_start, selected: o === chosen, data: o.cancelled ? { cancelled: 'true' } : null,
      text: `${fmt(o.start)}${o.moved ? ` (${t('rounds.moved')})` : ''}${o.cancelled ? ` (${t('rounds.cancelled')})` : ''}`,
    })));
  }
  await loadOccurrences(new URLSearchParams(location.search).get('start'));

  let participants = [];
  let names = new Map();
  const nameOf = (uid) => names.get(uid)?.name || t('rounds.someone');

  async function loadPeople() {
    participants = await all(`/rounds/${id}/participants`).catch(() => []);
    const hosts = canEdit ? await all(`/users?organization_id=${encodeURIComponent(r.host_organization_id)}&role=clinician`).catch(() => []) : [];
    // The list names them: everyone who may read it, whatever their role, sees who is in the room.
    names = new Map(participants.map((p) => [p.user_id, { id: p.user_id, name: p.name }]));
    for (const u of hosts) names.set(u.id, u);
    $('#participants', main).replaceChildren(...participants.map((p, i) => h('li', { data: { userId: p.user_id } },
      h('span', { id: `part-${i}`, text: nameOf(p.user_id) }), ' ', h('span', { class: 'pill', text: label('round_role', p.role) }),
      canEdit ? [' ', h('button', { type: 'button', class: 'secondary remove-participant', text: t('action.remove'), 'aria-describedby': `part-${i}`,
        onclick: held(() => removeParticipant(p)) })] : null)));
    if (!participants.length) $('#participants', main).append(h('li', { class: 'muted', text: t('rounds.no_participants') }));
    // Who may present: the host's clinicians and the round's participants.
    const presenters = new Map([...hosts.map((u) => [u.id, u]), ...participants.map((p) => [p.user_id, names.get(p.user_id)])]);
    $('#presenter', main).replaceChildren(...[...presenters].map(([uid, u]) => h('option', { value: uid, text: u?.name || uid })));
    if (!canEdit) return;
    const taking = new Set(participants.map((p) => p.user_id));
    const [specialists, interpreters] = await Promise.all([
      all('/users?role=specialist').catch(() => []), all('/users?role=interpreter').catch(() => [])]);
    const form = $('#participant-form', main);
    form.user_id.replaceChildren(...[...hosts, ...specialists, ...interpreters].filter((u) => u.active !== false && !taking.has(u.id))
      .map((u) => h('option', { value: u.id, text: `${u.name} · ${t(`role.${u.role}`)}`, data: { role: u.role, name: u.name } })));
    form.hidden = !form.user_id.options.length;
  }

  // What was added by mistake, taken back once she says so; then the page as it is now.
  // `refused(problem)`: the API's refusal in her words, or null for its own.
  const remove = (question, path, done, refused) => (!confirm(question) ? undefined : busy(main, async () => {
    try {
      await api(path, { method: 'DELETE' });
      say(done);
    } catch (err) {
      if (!(err instanceof ApiError)) { say(t('error.offline'), 'error'); return; }
      say(refused(err.problem) || err.message, 'error');
    }
    if (path.includes('/participants/')) await loadPeople();
    await show();
  }));
  // One who presents a case at a coming occurrence stays until it is taken off the agenda.
  const removeParticipant = (p, name = nameOf(p.user_id)) => remove(t('rounds.remove_participant_confirm', { name }),
    `/rounds/${id}/participants/${encodeURIComponent(p.user_id)}`, t('rounds.participant_removed', { name }),
    (x) => (x.type?.endsWith('/presents-on-agenda') && x.start ? t('rounds.presents_on_agenda', { name, when: fmt(x.start) }) : null));
  // A case whose recommendation is recorded stays: it is part of the case's record.
  const removeItem = (item, title, o, base) => remove(t('rounds.remove_agenda_confirm', { case: title, when: fmt(o.start) }),
    `${base}/agenda/${item.id}`, t('rounds.agenda_removed', { case: title }),
    (x) => (x.type?.endsWith('/agenda-item-recommended') ? t('rounds.recommended_stays') : null));

  async function show() {
    const o = byStart.get(select.value);
    const off = !!o?.cancelled; // cancelled: said so, and nothing to join, move or tick
    $('#occurrence-change', main).hidden = !canEdit || !o || off;
    $('#round-join', main).hidden = !r.join_url || off;
    const notice = $('#occurrence-cancelled', main);
    notice.hidden = !off;
    notice.textContent = off ? (o.reason ? t('rounds.cancelled_because', { reason: o.reason }) : t('rounds.cancelled_notice')) : '';
    // Moved: from when (in her time), and why when a reason was given.
    const moved = !off && !!o?.moved;
    const movedNotice = $('#occurrence-moved', main);
    movedNotice.hidden = !moved;
    movedNotice.textContent = moved
      ? (o.reason ? t('rounds.moved_because', { when: movedFrom(o), reason: o.reason }) : t('rounds.moved_from', { when: movedFrom(o) })) : '';
    if (!o) return;
    $('#move-start', main).value = o.start_local;
    $('#occurrence-local', main).textContent = `${fmt(o.start)} – ${fmtTime(o.end)}`;
    $('#occurrence-local', main).dataset.start = o.start;
    $('#occurrence-host', main).textContent = t('rounds.host_time', { time: fmtWall(o.start_local), zone: zoneName(o.timezone) });
    const base = `/rounds/${id}/occurrences/${encodeURIComponent(o.original_start)}`;
    const [agenda, suggested, attendance] = await Promise.all([
      all(`${base}/agenda`), canEdit && !off ? all(`${base}/suggested-agenda`).catch(() => []) : [], all(`${base}/attendance`).catch(() => [])]);
    const cases = new Map(await Promise.all([...new Set(agenda.map((i) => i.case_id))].map((cid) =>
      api(`/cases/${cid}`).then((c) => [cid, c]).catch(() => [cid, null]))));
    $('#agenda', main).replaceChildren(...agenda.map((item) => {
      const tid = `rec-${item.id}`;
      const area = h('textarea', { id: tid, rows: 3, maxlength: 8000, value: item.recommendation || '', readonly: !canRecommend });
      const clash = h('p', { class: 'notice rec-clash', role: 'status', hidden: true });
      const title = cases.get(item.case_id)?.question || `${t('rounds.case')} ${item.case_id.slice(-6)}`;
      return h('li', { data: { caseId: item.case_id, itemId: item.id } },
        h('div', { class: 'item-head' },
          h('a', { href: `/cases/${item.case_id}`, id: `case-${item.id}`, text: title }),
          h('span', { class: 'muted', text: `${t('rounds.presenter')}${COLON} ${nameOf(item.presenter_id)}` })),
        h('label', { for: tid, text: t('rounds.recommendation') }), area,
        clash,
        item.recommended_at ? h('p', { class: 'muted', text: t('rounds.recommended_at', { when: fmt(item.recommended_at) }) }) : null,
        canRecommend ? h('button', { type: 'button', class: 'secondary save-rec', text: t('action.save'), onclick: held(() => busy(main, async () => {
          try {
            await api(`${base}/agenda/${item.id}`, { method: 'PATCH', json: { recommendation: area.value }, headers: { 'If-Match': `"${item.version}"` } });
            say(t('saved'));
            await show();
          } catch (err) {
            // Someone saved meanwhile: theirs is shown, hers stays in the box, and saving
            // again (now on their version) replaces it knowingly.
            const fresh = err instanceof ApiError && err.status === 412
              ? (await all(`${base}/agenda`)).find((i) => i.id === item.id) : null;
            if (!fresh) { say(err.message, 'error'); return; }
            item.version = fresh.version;
            clash.textContent = t('rounds.rec_conflict', { text: fresh.recommendation || '—' });
            clash.hidden = false;
          }
        })) }) : null,
        canEdit && !item.recommendation ? h('button', { type: 'button', class: 'secondary remove-agenda', text: t('action.remove'),
          'aria-describedby': `case-${item.id}`, onclick: held(() => removeItem(item, title, o, base)) }) : null);
    }));
    if (!agenda.length) $('#agenda', main).append(h('li', { class: 'muted', text: t('rounds.agenda_empty') }));
    $('#suggest-box', main).hidden = !canEdit || off;
    const onAgenda = new Set(agenda.map((i) => i.case_id));
    $('#suggested', main).replaceChildren(...suggested.filter((c) => !onAgenda.has(c.case_id)).map((c) => h('li', { data: { caseId: c.case_id } },
      h('a', { href: `/cases/${c.case_id}`, text: c.question }), ` · ${label('status', c.status)} · ${label('urgency', c.urgency)} `,
      h('button', { type: 'button', class: 'secondary add-agenda', text: t('action.add_to_agenda'), onclick: held(() => busy(main, async () => {
        try { await api(`${base}/agenda`, { json: { case_id: c.case_id, presenter_id: $('#presenter', main).value } }); await show(); } catch (err) { say(err.message, 'error'); }
      })) }))));
    if (canEdit && !$('#suggested', main).children.length) $('#suggested', main).append(h('li', { class: 'muted', text: t('rounds.no_suggestions') }));

    const open = canEdit && begun(o) && !off;
    $('#attendance-wait', main).hidden = !canEdit || open || off;
    const records = new Map(attendance.map((a) => [a.user_id, a]));
    const who = [...new Set([...participants.map((p) => p.user_id), ...records.keys()])];
    const missing = who.filter((uid) => !names.has(uid));
    if (missing.length) for (const [uid, u] of await people(missing)) names.set(uid, u);
    $('#attendance', main).replaceChildren(...who.map((uid, i) => {
      const rec = records.get(uid);
      return h('li', { class: 'check', data: { userId: uid } },
        h('input', { type: 'checkbox', id: `att-${i}`, checked: rec?.attended === true, disabled: !open,
          'aria-describedby': canEdit && !open && !off ? 'attendance-wait' : null, onchange: (e) => busy(main, async () => {
          try {
            await api(`${base}/attendance`, { json: { user_id: uid, attended: e.target.checked } });
            say(t('saved'));
            await show();
          } catch (err) { e.target.checked = !e.target.checked; say(err.message, 'error'); }
        }) }),
        h('label', { for: `att-${i}`, text: nameOf(uid) }),
        rec?.attended && rec.local ? h('span', { class: 'pill local', text: t('rounds.local') }) : null);
    }));
    if (!who.length) $('#attendance', main).append(h('li', { class: 'muted', text: t('rounds.no_participants') }));
  }

  $('#participant-form', main).addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.target;
    const body = formData(form);
    const person = form.user_id.selectedOptions[0];
    body.role = PARTICIPANT_ROLE[person?.dataset.role];
    return busy(main, async () => {
      try {
        await api(`/rounds/${id}/participants`, { json: body });
        form.allow_conflict.checked = false;
        say(t('saved'));
        await loadPeople();
        await show();
      } catch (err) {
        if (err instanceof ApiError && err.problem.type?.endsWith('/round-conflict')) err.message = await clash(err.problem, person);
        if (err instanceof ApiError) showProblem(form, err); else say(t('error.offline'), 'error');
      }
    });
  });
  select.addEventListener('change', () => busy(main, show));
  await loadPeople();
  await show();
  if (!canEdit) return;

  // ---- changing the round (those who may edit it) --------------------------------
  const edit = $('#edit-form', main);
  const picker = rulePicker(edit, $('#e-repeat', main), $('#e-rrule-says', main), () => edit.timezone.value);
  let filled = {}; // the series form as filled from the round: a save sends what differs
  let offered = ''; // the start filled in, before she picks an occurrence to apply from
  const changes = () => Object.fromEntries(Object.entries(formData(edit)).filter(([k, v]) => v !== filled[k]));
  const ifMatch = () => ({ 'If-Match': `"${r.version}"` });
  const path = (o) => `/rounds/${id}/occurrences/${encodeURIComponent(o.original_start)}`;

  // An instant as the series' wall time ("2026-12-13T16:00", in its zone), as the API
  // reads starts_at_local.
  const wallOf = (instant) => {
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: r.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(new Date(instant));
    const part = (type) => parts.find((x) => x.type === type).value;
    return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}`;
  };
  const dayOf = (instant) => wallOf(instant).slice(0, 10);

  function fillEdit() {
    // A series that has met carries a new schedule on from a coming start (not its first,
    // long past): the next occurrence's as scheduled is offered, the first by its original
    // start, whether moved or cancelled (the API carries both over to it). Any later one
    // would leave the occurrences before it out of both series (the API refuses that).
    const began = !coming.length || Date.parse(coming[0].original_start) > Date.parse(r.starts_at) || begun(coming[0]);
    const later = coming.filter((o) => !begun(o));
    const next = later.reduce((a, o) => (!a || Date.parse(o.original_start) < Date.parse(a.original_start) ? o : a), null);
    edit.effective_from.replaceChildren(h('option', { value: '', text: t('rounds.from_now') }),
      ...later.map((o) => h('option', { value: o.original_start, text: fmt(o.start) })));
    $('#e-from-help', main).hidden = !began;
    if (![...edit.specialty.options].some((o) => o.value === r.specialty)) {
      edit.specialty.append(h('option', { value: r.specialty, text: label('specialty', r.specialty) }));
    }
    filled = {
      title: r.title, specialty: r.specialty, timezone: r.timezone, duration_minutes: r.duration_minutes,
      starts_at_local: began && next ? wallOf(next.original_start) : r.starts_at_local, rrule: sameRule(r.rrule),
      effective_from: null, teaching_topic: r.teaching_topic, join_url: r.join_url ?? null,
    };
    offered = filled.starts_at_local;
    fillForm(edit, filled);
    picker.match();
  }
  fillEdit();
  // "From the 14 December round, at 17:00": the start's date follows the occurrence she
  // applies the change from (its day in the series' zone, as the API reads it), unless she
  // typed a date of her own; the time stays hers. Only what she changes is sent.
  edit.effective_from.addEventListener('change', () => {
    const from = edit.effective_from.value;
    const day = from ? dayOf(from) : offered.slice(0, 10);
    const start = edit.starts_at_local;
    if (start.value.slice(0, 10) === filled.starts_at_local.slice(0, 10)) start.value = day + start.value.slice(10);
    filled.starts_at_local = day + offered.slice(10);
  });
  zoneChoices(edit.timezone);
  edit.timezone.addEventListener('input', picker.tell);
  // The specialties only when she opens the form: a slow link loads the page without them.
  $('#round-edit', main).hidden = false;
  $('#round-edit', main).addEventListener('toggle', async (e) => {
    if (!e.target.open || edit.specialty.options.length > 1) return;
    const codes = await api('/specialties').catch(() => []);
    const chosen = edit.specialty.value;
    if (codes.some((c) => c.code === chosen)) {
      edit.specialty.replaceChildren(...codes.map((c) => h('option', { value: c.code, text: label('specialty', c.code) })));
      edit.specialty.value = chosen;
    }
  });

  // After a change: the round (its version and facts) and its occurrences as they are now.
  async function reread(keep) {
    r = await api(`/rounds/${id}`);
    showFacts();
    await loadOccurrences(keep);
    fillEdit();
    await show();
  }

  // A refusal said on its form; a 412 (someone changed the round since it was read) shows
  // the round as it is now and keeps what she changed in the series form, to save again.
  async function refused(form, err) {
    if (!(err instanceof ApiError)) { say(t('error.offline'), 'error'); return; }
    if (err.problem.type?.endsWith('/occurrence-slot-taken')) err.message = slotTaken(err.problem, form === edit) || err.message;
    if (err.status !== 412) { showProblem(form, saidOnce(err)); return; }
    const mine = changes();
    try { await reread(select.value); } catch (again) { say(again.message, 'error'); return; }
    fillForm(edit, mine);
    picker.match();
    say(t('rounds.changed_meanwhile'), 'error');
  }

  $('#move-form', main).addEventListener('submit', (e) => {
    e.preventDefault();
    const o = byStart.get(select.value);
    const typed = formData(e.target); // kept through a 412's re-read, to move again
    return busy(main, async () => {
      try {
        const moved = await api(path(o), { method: 'PATCH', json: typed, headers: ifMatch() });
        e.target.reason.value = '';
        await reread(o.original_start);
        say(t('rounds.occurrence_moved', { when: fmt(moved.start) }));
      } catch (err) { await refused(e.target, err); fillForm(e.target, typed); }
    });
  });

  $('#cancel-form', main).addEventListener('submit', (e) => {
    e.preventDefault();
    const o = byStart.get(select.value);
    if (!confirm(t('rounds.cancel_confirm', { when: fmt(o.start) }))) return undefined;
    return busy(main, async () => {
      try {
        await api(`${path(o)}/cancel`, { json: formData(e.target), headers: ifMatch() });
        e.target.reason.value = '';
        await reread(o.original_start); // still listed, marked cancelled
        say(t('rounds.occurrence_cancelled', { when: fmt(o.start) }));
      } catch (err) { await refused(e.target, err); }
    });
  });

  edit.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = changes();
    // From a date on, with nothing to change from then, is no change.
    if (Object.keys(body).every((k) => k === 'effective_from')) { say(t('rounds.nothing_changed')); return undefined; }
    const save = (json) => api(`/rounds/${id}`, { method: 'PATCH', json, headers: ifMatch() });
    return busy(main, async () => {
      try {
        let saved;
        try { saved = await save(body); } catch (err) {
          // The new schedule has no day for some cancelled or moved occurrence: she decides.
          if (!(err instanceof ApiError && err.problem.type?.endsWith('/occurrence-changes-lost'))) throw err;
          if (!confirm(t('rounds.changes_lost', { list: lostSaid(err.problem.lost || []) }))) {
            say(t('rounds.changes_kept'), 'error');
            return;
          }
          saved = await save({ ...body, discard_occurrence_changes: true });
        }
        if (saved.id !== id) { // split: the past stays in this series, the rest goes on in the new one
          say(t('rounds.split_done'));
          navigate(`/rounds/${saved.id}`);
          return;
        }
        await reread(select.value);
        say(t('saved'));
      } catch (err) { await refused(edit, err); }
    });
  });

  $('#round-delete', main).addEventListener('click', () => {
    if (!confirm(t('rounds.delete_confirm', { title: r.title }))) return undefined;
    return busy(main, async () => {
      try {
        await api(`/rounds/${id}`, { method: 'DELETE', headers: ifMatch() });
        say(t('rounds.deleted', { title: r.title }));
        navigate('/rounds');
      } catch (err) { await refused(edit, err); }
    });
  });
}
