// A specialist's offers, live: /ws/inbox says when something changed for her, and the
// list is read again from the API (the source of truth), so nothing needs a reload.
import { $, COLON, ApiError, all, api, busy, fmt, h, label, localTime, pill, say, t } from '../core.js';
import { InboxLive } from '../live.js';
import { offerActions } from '../offer_actions.js';
import { offerExpiry, offerStateKey } from '../case_parts.js';

const GONE = new Set(['offer.withdrawn', 'offer.expired']);

async function offerState(box, offerId) {
  let offer;
  try {
    offer = await api(`/offers/${encodeURIComponent(offerId)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || ![403, 404].includes(err.status)) throw err;
    box.replaceChildren(t('inbox.state_unknown'));
    box.hidden = false;
    return;
  }
  let key = offerStateKey(offer);
  if (offer.status === 'expired') {
    // A coordinator may ask her again: that new offer is the one to answer, in the list.
    const again = await api(`/offers?status=pending&case_id=${encodeURIComponent(offer.case_id)}`);
    if (again.items.length) key = 'inbox.state_expired_again';
  }
  box.hidden = !key;
  if (!key) return; // still waiting: its card is in the list
  const open = offer.status === 'accepted'
    ? [' ', h('a', { href: `/cases/${offer.case_id}`, text: t('inbox.open_accepted') })] : [];
  box.replaceChildren(t(key), ...open);
  box.hidden = false;
}

export default async function inbox(main, params = {}) {
  const list = $('#offer-list', main);
  const feed = $('#feed', main);
  const linkState = $('#link-state', main);
  // Where each case comes from and what time it is there, read once per facility for the
  // page's life (the inbox is read again on every change).
  const facilities = new Map();
  const facilityOf = (id) => {
    if (!facilities.has(id)) {
      facilities.set(id, api(`/organizations/${id}`).catch((err) => {
        facilities.delete(id); // asked again at the next read
        if (!(err instanceof ApiError)) throw err;
        return null;
      }));
    }
    return facilities.get(id);
  };
  // The case as offered (its summary view: the question, never the patient's reference),
  // read once per case for the page's life; a read that fails is asked again next time.
  const cases = new Map();
  const caseOf = (id) => {
    if (!cases.has(id)) {
      cases.set(id, api(`/cases/${encodeURIComponent(id)}`).catch(() => { cases.delete(id); return null; }));
    }
    return cases.get(id);
  };
  // The facility's line may come late on a slow link: its room is kept from the start (three
  // lines at a phone's width, where the zone's name wraps), so Accept and Decline do not move
  // under her thumb.
  const room = matchMedia('(max-width: 40em)').matches ? 3 : 1;
  function whereFrom(orgId) {
    const line = h('p', { class: 'facility muted' });
    line.style.minHeight = `${room * 1.45}em`; // a browser without the lh unit
    line.style.minHeight = `${room}lh`;
    if (orgId) {
      facilityOf(orgId).then((org) => {
        if (!org) return;
        line.replaceChildren(h('strong', { text: org.name }), ` · ${t('case.clinic_time')}${COLON} ${localTime(org.timezone)}`);
      }).catch(() => {}); // a link that drops: the card stands without it
    }
    return line;
  }

  // The first words of the question: enough to tell one offer from another.
  const opening = (q) => (q.length > 140 ? `${q.slice(0, 140).replace(/\s+\S*$/, '')}…` : q);

  function item(o, kase) {
    const c = o.case || {};
    return h('article', { class: 'item card', data: { offerId: o.id, caseId: o.case_id } },
      h('div', { class: 'item-head' },
        h('a', { href: `/cases/${o.case_id}`, text: label('specialty', c.specialty) }),
        pill('urgency', c.urgency), o.interpreter_needed ? h('span', { class: 'pill', text: t('field.interpreter_needed') }) : null),
      kase?.question ? h('p', { class: 'question', text: opening(kase.question) }) : null,
      kase?.created_at ? h('p', { class: 'muted', text: t('inbox.submitted', { at: fmt(kase.created_at) }) }) : null,
      whereFrom(c.organization_id),
      h('p', { class: 'muted' }, offerExpiry(o.expires_at), ` · ${t('case.respond_by')} ${fmt(c.respond_by)}`),
      offerActions(o, { onChange: () => busy(main, load) }));
  }

  async function load() {
    const offers = await all('/offers?status=pending');
    const kases = await Promise.all(offers.map((o) => caseOf(o.case_id)));
    list.replaceChildren(...offers.map((o, i) => item(o, kases[i])));
    if (!offers.length) list.append(h('p', { class: 'muted', text: t('inbox.empty') }));
    // Opened from an offer's link: what became of it, again at each change (another
    // specialist may take the case while she reads).
    if (params.offer_id) await offerState($('#offer-state', main), params.offer_id);
  }

  // From a socket's frame: a read that fails on a link just back is said, and the next
  // frame (or reconnect) reads again.
  const reload = () => busy(main, load).catch((err) => say(err.message, 'error'));
  const live = new InboxLive({
    onState(s) { linkState.dataset.state = s; linkState.textContent = t(`room.${s}`); if (s === 'open') reload(); },
    onFrame(f) {
      if (f.type !== 'event') return;
      // A notification repeats an event the feed already shows.
      if (f.event === 'notification.created') return;
      // A case whose offer went elsewhere is no longer hers to open.
      const opens = f.payload?.case_id && !GONE.has(f.event);
      feed.prepend(h('li', {}, h('time', { datetime: f.at, text: fmt(f.at) }), ' · ', label('event', f.event),
        opens ? [' · ', h('a', { href: `/cases/${f.payload.case_id}`, text: t('inbox.open_case') })] : null));
      while (feed.children.length > 20) feed.lastChild.remove();
      if (f.event.startsWith('offer.') || f.event.startsWith('case.') || f.event.startsWith('matching.')) reload();
    },
  }).start();
  await load();
  return () => live.stop();
}
