// A case: its facts, the live room and the call, notes, attachments, follow-ups, feedback,
// closing, candidates (coordinators) and the record. The API decides what this person may
// see (a specialist holding only an offer gets the summary view) and do (403/409 shown).
import { $, ApiError, api, busy, factRows, fmt, h, label, lang, languageNames, localTime, navigate, pill, say, session, t } from '../core.js';
import { openCall } from '../call.js';
import { openRoom, readRoom } from '../room.js';
import { typing } from '../drafts.js';
import * as parts from '../case_parts.js';
import { CANCELLABLE, people, wirePeople } from '../case_people.js';
import { offerActions } from '../offer_actions.js';

const OPEN = new Set(['submitted', 'offered', 'assigned', 'answered', 'unmatched']);
// The cases whose room (and call) is open. A cancelled one has none (its room showed, empty,
// "Connecting" for ever, with a box that sent nothing): its conversation is shown to read.
const ROOM = new Set([...OPEN, 'closed']);
// Still waiting for its answer: where "Overdue" is said beside the status (the queue's rule).
const AWAITING = new Set(['submitted', 'offered', 'assigned', 'unmatched']);

// An age with its unit, in her language and number format: "1,5 años", "1.5 years", "1,5 an".
// Under a year, in months where the age given is a fraction of a year (0.5: "6 meses"); an
// age of 0 says no more than the API does: under a year.
const plural = new Intl.PluralRules(lang, { maximumFractionDigits: 2 });
const number = (digits) => new Intl.NumberFormat(lang, { maximumFractionDigits: digits });
function counted(unit, n, digits) {
  const key = `age.${unit}_${plural.select(n)}`;
  const text = t(key);
  return (text === key ? t(`age.${unit}_other`) : text).replace('{n}', number(digits).format(n));
}
function ageSaid(years) {
  if (years == null) return null;
  if (years === 0) return t('age.under_one');
  if (years < 1) return counted('months', Math.round(years * 120) / 10, 1);
  return counted('years', years, 2);
}

// Her latest offer of the case, said in words where it no longer waits; false if none.
async function offerGone(main, id) {
  const offers = await api(`/offers?case_id=${encodeURIComponent(id)}`).then((r) => r.items, () => []);
  const offer = offers.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at))).at(-1);
  const key = offer && parts.offerStateKey(offer);
  if (!key) return false;
  main.append(h('p', { class: 'notice', role: 'status', id: 'offer-gone' },
    t(key), ' ', h('a', { href: '/inbox', text: t('case.offer_gone_inbox') })));
  return true;
}

export default async function casePage(main, { case_id: id }) {
  const me = session.me;
  // A slow link takes seconds over the case: said meanwhile, in her language (case.html).
  let kase;
  try {
    kase = await api(`/cases/${id}`);
  } catch (err) {
    // A case she no longer sees keeps nothing she was typing in its room on the device.
    if (err instanceof ApiError && err.status === 404) typing.drop(me, `room:${id}`);
    // A specialist whose offer of the case lapsed (or went elsewhere) is told so, as the
    // offer's own link tells her, rather than "not found".
    if (err instanceof ApiError && err.status === 404 && me.role === 'specialist' && (await offerGone(main, id))) return undefined;
    throw err;
  } finally {
    $('#case-loading', main).hidden = true;
  }
  const staff = me.role === 'coordinator' || me.role === 'admin';
  const local = me.role === 'clinician' && me.organization_id === kase.organization_id;
  const full = kase.view === 'full';
  const show = (sel, on) => { $(sel, main).hidden = !on; };

  // Who is helping, for the others on the case: read once per assignment. A specialist
  // the directory no longer lists (inactive, unverified) is simply not named.
  let specialist = null;
  async function helper() {
    const sid = kase.view === 'full' ? kase.assigned_specialist_id : null;
    if (!sid || sid === me.id) { specialist = null; return; }
    if (specialist?.id === sid) return;
    try {
      specialist = await api(`/specialists/${sid}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      specialist = null;
    }
  }

  // The earlier case this one follows: a link for those who always see it, the facility
  // and the coordinators. Anyone else (an interpreter, a specialist: matching only prefers
  // the one who answered it) may not: named in words. Never read to find out: a read of a
  // case is an access to a patient's record, audited, which she did not ask for.
  const earlierOpen = () => staff || local;

  function facts() {
    $('#case-title', main).textContent = kase.question;
    $('#case-status', main).replaceWith(Object.assign(pill('status', kase.status), { id: 'case-status' }));
    // Past its answer-by time with no signed note (the server's flag, its rule and clock):
    // said beside the status while the case still waits, and the time marked as passed.
    show('#case-overdue', !!kase.overdue && AWAITING.has(kase.status));
    const deadline = kase.overdue
      ? h('span', { class: 'overdue deadline-passed', text: t('case.deadline_passed', { at: fmt(kase.respond_by) }) })
      : fmt(kase.respond_by);
    const rows = [
      [t('field.specialty'), label('specialty', kase.specialty)],
      [t('field.urgency'), label('urgency', kase.urgency)],
      [t('case.deadline'), deadline],
      [t('field.summary'), kase.summary],
      // Only what was given: an age or sex left out is not shown as "?" or an empty part.
      [t('intake.patient'), [kase.patient?.reference, ageSaid(kase.patient?.age_years ?? null),
        kase.patient?.sex ? label('sex', kase.patient.sex) : null].filter((x) => x != null && x !== '').join(' · ')],
      [t('case.languages'), languageNames(kase.languages)],
      [t('field.interpreter_needed'), kase.interpreter_needed ? t('yes') : t('no')],
      [t('case.submitted'), fmt(kase.created_at)],
    ];
    // Her name, the languages she speaks (an interpreter is booked for the call when none
    // is the facility's), and the time where she is.
    if (specialist) {
      rows.push([t('case.specialist'), [specialist.name, languageNames(specialist.languages),
        localTime(specialist.timezone)].filter(Boolean).join(' · ')]);
    }
    if (kase.follow_up_of) {
      rows.push([t('case.follow_up_of'), earlierOpen()
        ? h('a', { href: `/cases/${kase.follow_up_of}`, text: t('case.earlier_case') })
        : t('case.earlier_case_unseen')]);
    }
    if (kase.outcome) rows.push([t('field.outcome'), kase.outcome]);
    // A fact nobody gave (the summary is optional) is left out, not shown as a bare label.
    $('#case-facts', main).replaceChildren(...factRows(rows.filter(([, v]) => v != null && v !== '')));
    $('#case-facts', main).hidden = false;
    // Nobody could be matched: the facility is told what happens next (the coordinators
    // heard of it: a case_unmatched notification each) and what it can do meanwhile.
    show('#case-unmatched', local && kase.status === 'unmatched');
    // Care goes on: the facility asks again about the same patient (matching then
    // prefers the specialist who answered this case).
    show('#ask-again', local && full && ['answered', 'closed'].includes(kase.status));
    // An interpreter is told, in a line, what her part in the case is.
    $('#role-line', main).textContent = t('case.role_interpreter');
    show('#role-line', full && me.role === 'interpreter');
    $('#ask-again-link', main).href = `/cases/new?follow_up_of=${encodeURIComponent(kase.id)}`;
  }

  async function sections() {
    const mine = me.id === kase.assigned_specialist_id;
    show('#room', full); // live, or a cancelled case's kept to read (roomFor)
    show('#call', full && ROOM.has(kase.status));
    show('#notes', full);
    show('#attachments', full);
    show('#followups', full && kase.status !== 'cancelled');
    show('#feedback', local && ['answered', 'closed'].includes(kase.status));
    show('#close', (local || staff) && kase.status === 'answered');
    show('#cancel', (local || staff) && CANCELLABLE.has(kase.status));
    show('#people', full);
    show('#candidates', staff && ['submitted', 'offered', 'unmatched'].includes(kase.status));
    show('#record', full);
    if (!full) {
      if (!$('#summary-only', main)) main.append(h('p', { id: 'summary-only', class: 'notice', text: t('case.summary_only') }));
      await offered();
      return;
    }
    const record = await api(`/cases/${id}/record`);
    parts.record(main, record);
    if (local) parts.feedback(main, record);
    await Promise.all([
      // A specialist who sees the case whole is its assigned one or one added to it: both write notes.
      parts.notes(main, kase, record, { local, me, reload, mine: me.role === 'specialist' && ['assigned', 'answered'].includes(kase.status) }),
      parts.attachments(main, kase, { canAdd: (local || mine) && !['closed', 'cancelled'].includes(kase.status) }),
      parts.followUps(main, kase, me),
      people(main, kase, { canAdd: (staff || local || mine) && OPEN.has(kase.status) }),
      staff && !$('#candidates', main).hidden ? parts.candidates(main, kase, reload) : null,
    ]);
  }

  // A specialist who holds an offer of this case answers it here, from its summary: an
  // accept opens the case whole; a decline, or an offer gone meanwhile, goes to the inbox.
  async function offered() {
    if (me.role !== 'specialist') return;
    const [offer] = (await api(`/offers?case_id=${encodeURIComponent(id)}&status=pending`)).items;
    if (!offer) return;
    $('#offer-expiry', main).replaceChildren(parts.offerExpiry(offer.expires_at));
    $('#offer-actions', main).replaceChildren(...offerActions(offer, { onChange: () => navigate('/inbox') }));
    show('#offer', true);
  }

  // Changes and live frames each read the case again; answers can come back out of order
  // on a slow link, and only the latest read draws (else a closed case shows "answered").
  let latest = 0;
  function reload() {
    return busy(main, async () => {
      const turn = ++latest;
      const fresh = await api(`/cases/${id}`);
      if (turn !== latest) return;
      kase = fresh;
      await helper();
      if (turn !== latest) return;
      facts();
      await sections();
      await roomFor();
    });
  }

  // The room follows the case: live while the case is open or closed; once it is cancelled
  // (at page load, or here or elsewhere while the page is open) the live room and its call
  // end, and what was said stays to read.
  let room = null;
  let call = null;
  let kept = false;
  async function roomFor() {
    if (full && ROOM.has(kase.status)) {
      if (room) return;
      room = openRoom(main, kase, me, {
        onCase: () => reload().catch((err) => say(err.message, 'error')),
        onSignal: (f) => call?.onSignal(f),
        onPresence: () => call?.refresh(),
      });
      call = openCall(main, me, room);
      return;
    }
    call?.stop();
    room?.stop();
    call = null;
    room = null;
    typing.drop(me, `room:${id}`); // no live room here (cancelled, summary only): nothing to send it to
    if (full && kase.status === 'cancelled' && !kept) kept = await readRoom(main, kase, me);
  }

  await helper();
  facts();
  await Promise.all([sections(), parts.facility(main, kase.organization_id, me)]);
  parts.wireForms(main, kase, reload);
  wirePeople(main, kase, parts.submitter(main), reload);

  await roomFor();
  return () => { call?.stop(); room?.stop(); };
}
