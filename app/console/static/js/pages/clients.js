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
        h('td', {}, c.active ? t('clients.on') : t('clients.off'), ' ', switchButton(c), ' ', secretButton(c))))));
    labelCells($('#client-table', main));
  }
  // A secret is shown once, to copy: at registration and when it is replaced (`intro`
  // says which client, then). Not kept anywhere: gone with the next one or the page.
  const box = $('#client-secret', main);
  function showSecret(c, intro) {
    const value = h('input', { id: 'client-secret-value', class: 'mono', type: 'text', readonly: true, value: c.client_secret, autocomplete: 'off' });
    box.replaceChildren(...(intro ? [h('p', { text: intro })] : []), h('p', { text: t('clients.secret_once') }),
      h('p', { class: 'mono', text: `client_id: ${c.client_id}` }),
      h('label', { for: 'client-secret-value', class: 'mono', text: 'client_secret' }), value,
      h('button', { type: 'button', class: 'secondary', text: t('action.copy'), onclick: () => copy(value) }));
    box.hidden = false;
    value.focus();
    value.select();
  }
  async function copy(value) {
    try {
      await navigator.clipboard.writeText(value.value); // a secure context only (https, localhost)
      say(t('clients.secret_copied'));
    } catch {
      value.focus();
      value.select();
      let copied = false;
      try { copied = document.execCommand('copy'); } catch { /* no clipboard here */ }
      say(copied ? t('clients.secret_copied') : t('clients.copy_failed'), copied ? 'info' : 'error');
    }
  }
  // A leaked secret is replaced: the old one and every token taken with it are refused at
  // once, so the partner app stops until it is given the new one. Asked first, naming it;
  // one request at a time (a second would replace the secret just shown).
  function secretButton(c) {
    const button = h('button', { type: 'button', class: 'secondary', text: t('clients.new_secret'), onclick: async () => {
      if (!confirm(t('clients.confirm_new_secret', { name: c.name }))) return;
      button.disabled = true;
      let res;
      try {
        res = await api(`/api-clients/${c.id}/rotate-secret`, { json: {} });
      } catch (err) {
        // Refused: nothing changed. No answer: it may have been replaced all the same.
        say(err instanceof ApiError ? err.message : t('clients.secret_no_answer', { name: c.name }), 'error');
        button.disabled = false;
        return;
      }
      showSecret(res, t('clients.secret_new', { name: c.name }));
      await load();
    } });
    return button;
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
      showSecret(await api('/api-clients', { json: formData(form) }));
      await load();
    } catch (err) { if (err instanceof ApiError) showProblem(form, err); else say(t('error.offline'), 'error'); }
  });
  await load();
}
