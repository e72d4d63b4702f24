// Rounds: what is coming (every series' next occurrences, in the viewer's time; a cancelled
// one marked, a moved one saying from when), the series, and for coordinators a new series.
import { $, ApiError, all, api, busy, fmt, fmtWall, formData, h, label, localTime, navigate, say, session, showProblem, t, zoneName } from '../core.js';
import { describeRule } from '../rrule.js';
import { rulePicker } from '../rule_picker.js';
import { movedFrom, nextOccurrences, saidOnce } from './round.js';

// Why a read failed, in her words: the service's refusal, else the link.
const why = (err) => (err instanceof ApiError ? err.message : t('error.offline'));

export default async function rounds(main) {
  const staff = ['coordinator', 'admin'].includes(session.me.role);
  const upcoming = $('#upcoming', main);
  const loading = $('#upcoming-loading', main);
  const failed = $('#upcoming-error', main);
  // A slow link takes seconds over the rounds: "Loading…" meanwhile (rounds.html), never an
  // empty "Coming up"; a read that fails says so, with "Try again", as other pages do.
  async function load() {
    failed.hidden = true;
    loading.hidden = false;
    upcoming.hidden = true;
    try {
      await draw(main);
    } catch (err) {
      $('#upcoming-error-text', main).textContent = `${t('rounds.read_failed')} ${why(err)}`;
      failed.hidden = false;
      return;
    } finally {
      loading.hidden = true;
    }
    upcoming.hidden = false;
  }
  $('#upcoming-retry', main).addEventListener('click', () => busy(main, load));
  await load();

  if (!staff) return;
  $('#round-create', main).hidden = false;
  const form = $('#round-form', main);
  const [orgs, codes] = await Promise.all([all('/organizations'), api('/specialties')]);
  form.host_organization_id.replaceChildren(...orgs.map((o) => h('option', { value: o.id, text: o.name })));
  form.specialty.replaceChildren(...codes.map((c) => h('option', { value: c.code, text: label('specialty', c.code) })));
  // The rule chosen or typed, said in words (in the host's zone, for an end date).
  const zones = new Map(orgs.map((o) => [o.id, o.timezone]));
  const { tell } = rulePicker(form, $('#r-repeat', main), $('#r-rrule-says', main),
    () => zones.get(form.host_organization_id.value) || 'UTC');
  // The start is typed on the host's clock: say whose, and what time it is there now, so
  // that she does not type her own.
  const startHelp = $('#r-start-help', main);
  function host() {
    const org = orgs.find((o) => o.id === form.host_organization_id.value);
    if (org) startHelp.textContent = t('rounds.start_help_at', { name: org.name, now: localTime(org.timezone) });
  }
  host();
  form.host_organization_id.addEventListener('change', () => { tell(); host(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = formData(form);
    for (const k of ['teaching_topic', 'join_url']) if (!body[k]) delete body[k];
    try {
      const r = await api('/rounds', { json: body });
      say(t('rounds.created', { title: r.title })); // and a refusal said before is gone
      navigate(`/rounds/${r.id}`);
    } catch (err) { if (err instanceof ApiError) showProblem(form, saidOnce(err)); else say(t('error.offline'), 'error'); }
  });
}

// The series and what is coming up, read and drawn.
async function draw(main) {
  const series = await all('/rounds');
  $('#round-list', main).replaceChildren(...series.map((r) => h('li', {},
    h('div', { class: 'item-head' }, h('a', { href: `/rounds/${r.id}`, text: r.title }), h('span', { class: 'pill', text: label('specialty', r.specialty) })),
    h('div', { class: 'muted', text: `${describeRule(r.rrule, r.timezone)} · ${fmtWall(r.starts_at_local)} (${zoneName(r.timezone)})` }))));
  if (!series.length) $('#round-list', main).append(h('li', { class: 'muted', text: t('rounds.none') }));

  // From the server's now (its clock, not the browser's), an occurrence under way included.
  // Each series' list is complete up to its own `until` (a daily one's 20 end sooner than a
  // monthly one's): only what comes before the earliest of them is shown, so that no
  // occurrence of one series is missing between two that are shown.
  const found = await Promise.all(series.map((r) => nextOccurrences(r, 20)
    .then(({ items, until }) => ({ until, items: items.map((o) => ({ ...o, round: r })) }))
    // A series she may no longer read is left out; a dropped link fails the whole read.
    .catch((err) => { if (!(err instanceof ApiError)) throw err; return { until: Infinity, items: [] }; })));
  const until = Math.min(...found.map((f) => f.until));
  const occ = found.flatMap((f) => f.items).filter((o) => Date.parse(o.start) < until)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start)).slice(0, 20);
  // A cancelled one is listed too, marked (with the reason on the round's page): whoever
  // expected it sees it is off, rather than wondering whether she misremembered.
  // The host's time beside hers only where it differs (at the host it is the same time).
  $('#upcoming', main).replaceChildren(...occ.map((o) => h('li', { data: { roundId: o.round_id, start: o.start, ...(o.cancelled ? { cancelled: 'true' } : {}) } },
    h('a', { href: `/rounds/${o.round_id}?start=${encodeURIComponent(o.original_start)}`, text: o.round.title }), ' · ',
    h('span', { class: 'when', text: fmt(o.start) }), o.moved ? ` (${t('rounds.moved_from_short', { when: movedFrom(o) })})` : '',
    o.cancelled ? [' ', h('span', { class: 'pill', data: { state: 'refused' }, text: t('rounds.cancelled') })] : null,
    fmtWall(o.start_local) === fmt(o.start) ? null
      : h('span', { class: 'muted', text: ` · ${t('rounds.host_time', { time: fmtWall(o.start_local), zone: zoneName(o.timezone) })}` }))));
  if (!occ.length) $('#upcoming', main).append(h('li', { class: 'muted', text: t('rounds.nothing_soon') }));
}
