// Partner apps (API clients): register one (its secret is shown once), see the others.
import { $, ApiError, all, clearFieldError, fieldError, fmt, formData, h, labelCells, api, say, showProblem, t } from '../core.js';

export default async function clients(main) {
  const form = $('#client-form', main);
  const orgs = await all('/organizations');
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  // The facility is chosen, never defaulted: a client bound to the wrong one acts for it.
  form.organization_id.replaceChildren(h('option', { value: '', text: t('clients.choose_organization') }),
    ...orgs.map((o) => h('option', { value: o.id, text: o.name })));
  async function load() {
    const items = await all('/api-clients');
    $('#client-table', main).replaceChildren(
      h('thead', {}, h('tr', {}, ...['field.name', 'clients.client_id', 'field.organization', 'field.scopes', 'case.submitted']
        .map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, ...items.map((c) => h('tr', {},
        h('td', { text: c.name }), h('td', { class: 'mono', text: c.client_id }), h('td', { text: orgName.get(c.organization_id) || c.organization_id }),
        h('td', { class: 'mono', text: c.scopes.join(' ') }), h('td', { text: fmt(c.created_at) })))));
    labelCells($('#client-table', main));
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldError(form.organization_id);
    if (!form.organization_id.value) {
      fieldError(form.organization_id, t('clients.organization_required'));
      form.organization_id.focus();
      return;
    }
    try {
      const c = await api('/api-clients', { json: formData(form) });
      const box = $('#client-secret', main);
      box.replaceChildren(h('p', { text: t('clients.secret_once') }),
        h('p', { class: 'mono', text: `client_id: ${c.client_id}` }), h('p', { class: 'mono', text: `client_secret: ${c.client_secret}` }));
      box.hidden = false;
      await load();
    } catch (err) { if (err instanceof ApiError) showProblem(form, err); else say(t('error.offline'), 'error'); }
  });
  await load();
}
