// Webhooks: subscribe a partner URL (the signing secret is shown once), see each one's
// deliveries with their attempts, send one again, unsubscribe.
import { $, ApiError, all, api, fmt, h, labelCells, say, showProblem, t } from '../core.js';

const EVENTS = ['case.submitted', 'case.offered', 'case.assigned', 'case.answered', 'case.unmatched', 'case.overdue',
  'case.cancelled', 'case.closed', 'message.created', 'note.signed', 'followup.due', 'followup.overdue', 'round.updated'];

export default async function webhooks(main) {
  const form = $('#webhook-form', main);
  $('#event-boxes', main).replaceChildren(...EVENTS.map((ev, i) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `ev-${i}`, name: 'events', value: ev }), h('label', { for: `ev-${i}`, class: 'mono', text: ev }))));

  let shown = null; // the webhook whose deliveries are on the page
  async function deliveries(hook) {
    const items = await all(`/webhooks/${hook.id}/deliveries`, 100);
    shown = hook.id;
    $('#deliveries', main).hidden = false;
    $('#deliveries-of', main).textContent = hook.url;
    $('#delivery-table', main).replaceChildren(
      h('thead', {}, h('tr', {}, ...['webhooks.event', 'field.status', 'webhooks.attempts', 'webhooks.last', 'case.submitted', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((d) => h('tr', {},
        h('td', { class: 'mono', text: d.event_type }), h('td', { text: t(`delivery.${d.status}`) }), h('td', { text: d.attempts }),
        h('td', { text: d.last_status_code ?? d.last_error ?? '' }), h('td', { text: fmt(d.created_at) }),
        h('td', {}, d.status !== 'delivered' ? h('button', { type: 'button', class: 'secondary', text: t('action.retry'), onclick: async (e) => {
          const button = e.currentTarget;
          button.disabled = true; // one retry per click, however slow the link
          try {
            await api(`/webhooks/${hook.id}/deliveries/${d.id}/retry`, { json: {} });
            say(t('webhooks.retry_queued'));
            await deliveries(hook);
          } catch (err) { button.disabled = false; say(err.message, 'error'); }
        } }) : null)))));
    labelCells($('#delivery-table', main));
  }

  async function load() {
    const items = await all('/webhooks');
    $('#webhook-list', main).replaceChildren(...items.map((w) => h('li', {},
      h('div', { class: 'item-head' }, h('span', { class: 'mono', text: w.url }),
        h('span', { class: 'pill', text: w.active ? t('users.active') : t('users.inactive') })),
      h('div', { class: 'muted mono', text: w.events.join(' ') }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: t('webhooks.deliveries'), onclick: () => deliveries(w) }),
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
    const events = [...form.querySelectorAll('[name=events]:checked')].map((el) => el.value);
    try {
      const w = await api('/webhooks', { json: { url: form.url.value, events } });
      const box = $('#webhook-secret', main);
      box.replaceChildren(h('p', { text: t('webhooks.secret_once') }), h('p', { class: 'mono', text: w.secret }));
      box.hidden = false;
      form.reset();
      await load();
    } catch (err) { if (err instanceof ApiError) showProblem(form, err); else say(t('error.offline'), 'error'); }
  });
  await load();
}
