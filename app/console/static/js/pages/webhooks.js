// Webhooks: subscribe a partner URL (the signing secret is shown once), see each one's
// deliveries with their attempts, send one again, unsubscribe. A refused URL is said beside
// the form in her language (the problem's `errors[].code`), until she changes something.
// What an attempt met is said in words (the API's `outcome` code), the raw record kept
// beside it for whoever debugs; a delivery sent again shows so at once, and the log is read
// again until the new attempt is in it.
import { $, ApiError, all, api, busy, fmt, h, labelCells, say, showProblem, t } from '../core.js';

const EVENTS = ['case.submitted', 'case.offered', 'case.assigned', 'case.answered', 'case.unmatched', 'case.overdue',
  'case.cancelled', 'case.closed', 'message.created', 'note.signed', 'followup.due', 'followup.overdue', 'round.updated'];
const FOLLOW_MS = 2000; // how often the log is read again while a delivery sent again waits
const FOLLOW_TIMES = 10;

// An attempt's outcome (the API's `outcome` code) in words: an answer by its HTTP status, a
// failure by its reason; one this page cannot name reads as the raw record.
const WORDS_OF = { tls: 'connect_failed' }; // said alike (the raw record tells them apart)
function outcome(code, status, raw) {
  if (status != null) return `HTTP ${status}`;
  const key = `webhooks.outcome.${WORDS_OF[code] || code}`;
  const words = code ? t(key) : key;
  return words === key ? raw || '' : words;
}

// "Last answer": the words, and opened, the raw record and each attempt (newest first); a
// raw record that says no more than the words is not repeated.
function lastAnswer(d) {
  const words = outcome(d.last_outcome, d.last_status_code, d.last_error);
  const raw = d.last_error && d.last_error !== words ? d.last_error : null;
  const log = d.attempt_log || [];
  if (!raw && !log.length) return words;
  return h('details', { class: 'raw' }, h('summary', { text: words }),
    raw ? h('p', { class: 'mono', text: raw }) : null,
    log.length ? h('ol', { reversed: true, start: log.length }, log.slice(-10).reverse().map((a) => {
      const said = outcome(a.outcome, a.status_code, a.error);
      return h('li', {}, `${fmt(a.at)}: ${said} (${a.duration_ms} ms)`,
        a.error && a.error !== said ? h('span', { class: 'mono', text: ` ${a.error}` }) : null);
    })) : null);
}

export default async function webhooks(main) {
  const form = $('#webhook-form', main);
  const problem = $('#webhook-problem', main);
  const table = $('#delivery-table', main);
  $('#event-boxes', main).replaceChildren(...EVENTS.map((ev, i) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `ev-${i}`, name: 'events', value: ev }), h('label', { for: `ev-${i}`, class: 'mono', text: ev }))));
  form.addEventListener('input', () => { problem.hidden = true; });

  let shown = null; // the webhook whose deliveries are on the page
  const requeued = new Map(); // delivery id -> its attempts when she sent it again
  let following = null; // the timer reading the log again

  // Its state, and while a delivery she sent again waits for that attempt, that it does.
  function status(d) {
    const waiting = d.status === 'pending' && requeued.get(d.id) === d.attempts;
    return h('td', { class: 'state' }, t(`delivery.${d.status}`),
      waiting ? [h('br'), h('span', { class: 'muted', text: t('webhooks.retry_queued') })] : null);
  }

  function row(hook, d) {
    return h('tr', { data: { deliveryId: d.id } },
      h('td', { class: 'mono', text: d.event_type }), status(d), h('td', { text: d.attempts }),
      h('td', { class: 'answer' }, lastAnswer(d)),
      h('td', { class: 'next', text: d.status === 'pending' ? fmt(d.next_attempt_at) : '—' }),
      h('td', { text: fmt(d.created_at) }),
      h('td', {}, d.status !== 'delivered' ? h('button', { type: 'button', class: 'secondary', text: t('action.retry'), onclick: async (e) => {
        const button = e.currentTarget;
        button.disabled = true; // one retry per click, however slow the link
        try {
          const again = await api(`/webhooks/${hook.id}/deliveries/${d.id}/retry`, { json: {} });
          requeued.set(d.id, again.attempts);
          // At once, as the service now has it; then the log as it stands, until the new
          // attempt is in it.
          button.closest('tr').replaceWith(row(hook, { ...again, attempt_log: d.attempt_log }));
          labelCells(table);
          say(t('webhooks.retry_queued'));
          await busy(main, () => deliveries(hook));
          follow(hook, FOLLOW_TIMES);
        } catch (err) { button.disabled = false; say(err.message, 'error'); }
      } }) : null));
  }

  async function deliveries(hook) {
    const items = await all(`/webhooks/${hook.id}/deliveries`, 100);
    if (shown !== hook.id) requeued.clear();
    shown = hook.id;
    for (const d of items) {
      if (requeued.has(d.id) && (d.status !== 'pending' || d.attempts !== requeued.get(d.id))) requeued.delete(d.id);
    }
    $('#deliveries', main).hidden = false;
    $('#deliveries-of', main).textContent = hook.url;
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['webhooks.event', 'field.status', 'webhooks.attempts', 'webhooks.last', 'webhooks.next_attempt', 'case.submitted', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((d) => row(hook, d))));
    labelCells(table);
  }

  function follow(hook, left) {
    clearTimeout(following);
    if (!left || shown !== hook.id || !requeued.size) return;
    following = setTimeout(() => {
      busy(main, () => deliveries(hook)).then(() => follow(hook, left - 1), () => follow(hook, left - 1));
    }, FOLLOW_MS);
  }

  async function load() {
    const items = await all('/webhooks');
    $('#webhook-list', main).replaceChildren(...items.map((w) => h('li', {},
      h('div', { class: 'item-head' }, h('span', { class: 'mono', text: w.url }),
        h('span', { class: 'pill', text: w.active ? t('users.active') : t('users.inactive') })),
      h('div', { class: 'muted mono', text: w.events.join(' ') }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: t('webhooks.deliveries'),
          onclick: () => busy(main, () => deliveries(w)).catch((err) => say(err.message, 'error')) }),
        h('button', { type: 'button', class: 'secondary', text: t('action.delete'), onclick: async () => {
          if (!confirm(t('webhooks.confirm_delete'))) return;
          try {
            await api(`/webhooks/${w.id}`, { method: 'DELETE' });
            if (shown === w.id) { shown = null; $('#deliveries', main).hidden = true; } // gone with it
            say(t('webhooks.deleted'));
            await load();
          } catch (err) { say(err.message, 'error'); }
        } })))));
    if (!items.length) $('#webhook-list', main).append(h('li', { class: 'muted', text: t('webhooks.none') }));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    problem.hidden = true;
    const events = [...form.querySelectorAll('[name=events]:checked')].map((el) => el.value);
    try {
      const w = await api('/webhooks', { json: { url: form.url.value, events } });
      const box = $('#webhook-secret', main);
      box.replaceChildren(h('p', { text: t('webhooks.secret_once') }), h('p', { class: 'mono', text: w.secret }));
      box.hidden = false;
      form.reset();
      await load();
    } catch (err) {
      if (err instanceof ApiError) {
        // An unsafe URL's detail is the field's reason itself: the head says a field needs
        // changing (as for any invalid field), the field says why in her words, once.
        if (String(err.problem.type || '').endsWith('/unsafe-webhook-url')) err.message = t('error.fields_invalid');
        showProblem(form, err, problem);
      } else { problem.textContent = t('error.offline'); problem.hidden = false; }
    }
  });
  await load();
  return () => clearTimeout(following);
}
