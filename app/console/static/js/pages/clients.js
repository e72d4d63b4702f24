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
      h('thead', {}, h('tr', {}, ...['field.name', 'clients.client_id', 'field.organization', 'field.scopes', 'case.submitted', 'field.status']
        .map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, ...items.map((c) => h('tr', { data: { clientId: c.id } },
        h('td', { text: c.name }), h('td', { class: 'mono', text: c.client_id }), h('td', { text: orgName.get(c.organization_id) || c.organization_id }),
        h('td', { class: 'mono', text: c.scopes.join(' ') }), h('td', { text: fmt(c.created_at) }),
        h('td', {}, c.active ? t('clients.on') : t('clients.off'), ' ', switchButton(c))))));
    labelCells($('#client-table', main));
  }
  // Off, the app's tokens are refused at once (a leaked secret, an app retired): asked
  // first, naming it; on again asks nothing.
  function switchButton(c) {
    return h('button', { type: 'button', class: 'secondary', text: c.active ? t('clients.switch_off') : t('clients.switch_on'), onclick: async () => {
      if (c.active && !confirm(t('clients.confirm_off', { name: c.name }))) return;
      try {
        await api(`/api-clients/${c.id}`, { method: 'PATCH', json: { active: !c.active } });
        say(c.active ? t('clients.switched_off', { name: c.name }) : t('clients.switched_on', { name: c.name }));
        await load();
      } catch (err) { say(err instanceof ApiError ? err.message : t('error.offline'), 'error'); }
    } });
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
