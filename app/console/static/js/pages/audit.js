// The audit log: whether its hash chain holds (GET /audit/verify), and the latest entries.
import { $, all, api, fmt, h, label, labelCells, t, userName } from '../core.js';

// Who acted, by name: a person through the directory, an API client through the clients'
// list (read once). The id stays in the cell's title, for matching with the logs.
let clients = null;
function actorName(a) {
  if (!a.actor_id) return Promise.resolve(null);
  if (a.actor_kind !== 'client') return userName(a.actor_id);
  clients ??= all('/api-clients').catch(() => []);
  return clients.then((cs) => cs.find((c) => c.id === a.actor_id)?.name ?? null);
}
function actorCell(a) {
  // No one by id: the service acting on its own schedule, or a caller not signed in.
  if (!a.actor_id) return h('td', { title: a.actor_kind, text: label('audit.actor', a.actor_kind) });
  const cell = h('td', { class: 'mono', title: a.actor_id, text: a.actor_id });
  actorName(a).then((name) => { if (name) { cell.textContent = name; cell.classList.remove('mono'); } });
  return cell;
}

// Whom or what an entry is about: an account or an API client by name (the id in the
// cell's title, as the actor's), anything else by its id.
function resourceCell(a) {
  const cell = h('td', { class: 'mono', title: a.resource_id || '', text: `${a.resource_type} ${a.resource_id || ''}` });
  const named = a.resource_type === 'user' ? userName(a.resource_id)
    : a.resource_type === 'api_client' ? actorName({ actor_id: a.resource_id, actor_kind: 'client' }) : null;
  named?.then((name) => { if (name) { cell.textContent = `${label('audit.on', a.resource_type)} · ${name}`; cell.classList.remove('mono'); } });
  return cell;
}

// How an account was changed, in her words: switched off or on, given a new secret (an
// API client), or which of its facts.
function changed(a) {
  if (!['user.update', 'api_client.update'].includes(a.action) || !a.detail) return '';
  const words = { 'active=false': 'deactivated', 'active=true': 'activated', 'secret=rotated': 'secret_rotated' };
  const parts = a.detail.split(',').map((d) => words[d] || d);
  return ` (${parts.map((p) => label('audit.detail', p)).join(', ')})`;
}

export default async function audit(main) {
  const stateEl = $('#chain-state', main);
  const more = $('#more', main);
  const table = $('#audit-table', main);
  let cursor = null;
  async function verify() {
    stateEl.dataset.state = 'unknown';
    stateEl.textContent = '…';
    const v = await api('/audit/verify', { root: true });
    stateEl.dataset.state = v.valid ? 'valid' : 'broken';
    stateEl.textContent = v.valid
      ? t('audit.valid', { n: v.checked })
      : t('audit.broken', { id: v.first_broken_id, n: v.checked });
  }
  async function page() {
    const res = await api(`/audit?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { root: true });
    table.querySelector('tbody').append(...res.items.map((a) => h('tr', {},
      h('td', { text: fmt(a.at) }), actorCell(a),
      // What was done in her words (the code kept as the cell's title, for the auditor who
      // searches by it); a refused attempt says so.
      h('td', { title: a.action, text: label('audit.act', a.action) + changed(a) + (a.outcome === 'denied' ? ` (${t('audit.denied')})` : '') }),
      resourceCell(a),
      h('td', { class: 'mono', text: a.ip || '' }))));
    labelCells(table);
    cursor = res.next_cursor;
    more.hidden = !cursor;
  }
  table.replaceChildren(h('thead', {}, h('tr', {}, ...['audit.at', 'audit.actor', 'audit.action', 'audit.resource', 'audit.ip']
    .map((k) => h('th', { scope: 'col', text: t(k) })))), h('tbody'));
  $('#verify', main).addEventListener('click', verify);
  more.addEventListener('click', page);
  await Promise.all([verify(), page()]);
}
