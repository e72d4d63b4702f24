// Who takes part in a case beside its facility and its assigned specialist (an interpreter,
// a second specialist), and adding one; cancelling a case sent by mistake.
import { $, all, api, formData, h, label, t, userName } from './core.js';

export const CANCELLABLE = new Set(['submitted', 'offered', 'unmatched', 'assigned']);

// Named where the directory lets this viewer see the person; else by role.
export async function people(main, kase, { canAdd }) {
  const parts = await all(`/cases/${kase.id}/participants`);
  const names = await Promise.all(parts.map((p) => userName(p.user_id)));
  const list = $('#people-list', main);
  list.replaceChildren(...parts.map((p, i) => h('li', { data: { userId: p.user_id } },
    h('strong', { text: names[i] || label('role', p.role) }), names[i] ? ` · ${label('role', p.role)}` : null)));
  if (!parts.length) list.append(h('li', { class: 'muted', text: t('people.none') }));
  // The case asks for an interpreter and has none: whoever may add one is told to; anyone
  // else who sees the case (a second specialist) is told who can.
  const needed = $('#people-needed', main);
  needed.hidden = !(kase.interpreter_needed && !parts.some((p) => p.role === 'interpreter')
    && !['closed', 'cancelled'].includes(kase.status));
  needed.textContent = t(canAdd ? 'people.interpreter_needed' : 'people.interpreter_ask');
  const form = $('#people-form', main);
  form.hidden = !canAdd;
  if (!canAdd) return;
  const available = await choices(form, kase, parts);
  // "Add one" with nobody to add: who can find one instead.
  if (!available && form.role.value === 'interpreter') needed.textContent = t('people.interpreter_none');
}

// Those of the chosen role who could still join: active, not on the case already. The
// directory is read once per role and page: the case is redrawn at every live frame.
const directory = new WeakMap(); // form -> {role: Promise<users>}
async function choices(form, kase, parts) {
  const role = form.role.value;
  const read = directory.get(form) || {};
  directory.set(form, read);
  read[role] ??= all(`/users?role=${role}`).catch((err) => { delete read[role]; throw err; });
  const taken = new Set([kase.assigned_specialist_id, ...parts.map((p) => p.user_id)]);
  const users = (await read[role]).filter((u) => u.active && !taken.has(u.id));
  form.user_id.replaceChildren(...users.map((u) => h('option', { value: u.id, text: u.name })));
  if (!users.length) form.user_id.append(h('option', { value: '', text: t('people.nobody') }));
  form.querySelector('[type=submit]').disabled = !users.length; // nobody to add: nothing to send
  return users.length;
}

// Wired once per page, as the other forms (`on` reports a refusal on the form).
export function wirePeople(main, kase, on, reload) {
  const form = $('#people-form', main);
  form.role.addEventListener('change', () => all(`/cases/${kase.id}/participants`).then((parts) => choices(form, kase, parts)));
  on('#people-form', async () => {
    await api(`/cases/${kase.id}/participants`, { json: formData(form) });
    await reload();
  });
  on('#cancel-form', async (f) => {
    if (!confirm(t('cancel.confirm'))) return;
    await api(`/cases/${kase.id}/cancel`, { json: formData(f) });
    f.reset();
    await reload();
  });
}
