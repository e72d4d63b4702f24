// Who takes part in a case beside its facility and its assigned specialist (an interpreter,
// a second specialist), and adding one; cancelling a case sent by mistake.
import { $, ApiError, all, api, formData, h, label, lang, languageName, languageNames, say, t, userName } from './core.js';

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
  const { available, speakers } = await choices(form, kase, parts);
  // "Add one" with nobody to add, or nobody who speaks the patient's language: who can find
  // one instead (a Nepali case offered only a Quechua interpreter, and no word of whom to ask).
  if (form.role.value !== 'interpreter') return;
  if (!available) needed.textContent = t('people.interpreter_none');
  else if (!speakers && kase.languages?.length) {
    needed.textContent = t('people.interpreter_no_speaker', { languages: eitherOf(kase.languages) });
  }
}

// Those of the chosen role who could still join: active, not on the case already. The
// directory is read once per role and page: the case is redrawn at every live frame.
// By name; interpreters with their languages, those who speak one of the case's first (by
// the language alone, as matching reads them: "es-419" speaks "es").
const directory = new WeakMap(); // form -> {role: Promise<users>}
async function choices(form, kase, parts) {
  const role = form.role.value;
  const read = directory.get(form) || {};
  directory.set(form, read);
  read[role] ??= all(`/users?role=${role}`).catch((err) => { delete read[role]; throw err; });
  const taken = new Set([kase.assigned_specialist_id, ...parts.map((p) => p.user_id)]);
  const users = (await read[role]).filter((u) => u.active && !taken.has(u.id))
    .sort((a, b) => byName.compare(a.name, b.name));
  const chosen = form.user_id.value;
  const option = (u) => h('option', { value: u.id, text: role === 'interpreter' ? `${u.name} · ${spoken(u)}` : u.name });
  if (role === 'interpreter' && kase.languages?.length) {
    const speakers = users.filter((u) => speaksOne(u, kase));
    const others = users.filter((u) => !speaksOne(u, kase));
    const group = (text, list) => (list.length ? h('optgroup', { label: text }, ...list.map(option)) : null);
    form.user_id.replaceChildren(...[group(t('people.speakers', { languages: eitherOf(kase.languages) }), speakers),
      group(t('people.other_interpreters'), others)].filter(Boolean));
  } else form.user_id.replaceChildren(...users.map(option));
  if (!users.length) form.user_id.append(h('option', { value: '', text: t('people.nobody') }));
  if (users.some((u) => u.id === chosen)) form.user_id.value = chosen; // a live frame keeps her choice
  form.querySelector('[type=submit]').disabled = !users.length; // nobody to add: nothing to send
  pickable.set(form, { kase, users: new Map(users.map((u) => [u.id, u])) });
  warnLanguage(form);
  // Who might speak it: those who do, and those with no languages on file (unknown).
  const might = users.filter((u) => !u.languages?.length || speaksOne(u, kase)).length;
  return { available: users.length, speakers: might };
}

const byName = new Intl.Collator(lang);
const primary = (tag) => String(tag).toLowerCase().split('-')[0];
const speaksOne = (u, kase) => (u.languages || []).some((l) => (kase.languages || []).some((c) => primary(c) === primary(l)));
const spoken = (u) => (u.languages?.length ? languageNames(u.languages) : t('people.languages_none'));
const either = Intl.ListFormat ? new Intl.ListFormat(lang, { type: 'disjunction' }) : null;
const eitherOf = (codes) => (either ? either.format(codes.map(languageName)) : languageNames(codes));

// The interpreter chosen speaks none of the case's languages (or none is on file): said
// beside "Who" before she is added. A warning only: the coordinator may know better.
const pickable = new WeakMap(); // form -> {kase as last drawn, users: Map(id -> user)}
function warnLanguage(form) {
  const box = form.querySelector('#people-language');
  const { kase, users } = pickable.get(form) || {};
  const u = form.role.value === 'interpreter' ? users?.get(form.user_id.value) : null;
  const warn = !!(u && kase.languages?.length && !speaksOne(u, kase));
  if (warn) {
    box.textContent = u.languages?.length
      ? t('people.language_warning', { name: u.name, languages: languageNames(kase.languages), theirs: languageNames(u.languages) })
      : t('people.language_unknown', { name: u.name, languages: eitherOf(kase.languages) });
  }
  box.hidden = !warn;
  if (warn) form.user_id.setAttribute('aria-describedby', box.id);
  else form.user_id.removeAttribute('aria-describedby');
}

// Wired once per page, as the other forms (`on` reports a refusal on the form).
export function wirePeople(main, kase, on, reload) {
  const form = $('#people-form', main);
  form.role.addEventListener('change', () => all(`/cases/${kase.id}/participants`).then((parts) => choices(form, kase, parts)));
  form.user_id.addEventListener('change', () => warnLanguage(form));
  on('#people-form', async () => {
    const body = formData(form);
    const name = pickable.get(form)?.users.get(body.user_id)?.name;
    await api(`/cases/${kase.id}/participants`, { json: body });
    await reload();
    // Said, as every other change on the page is: the list alone changes out of sight on a phone.
    say(t('people.added', { name: name || label('role', body.role), role: label('role', body.role) }));
  });
  on('#cancel-form', async (f) => {
    if (!confirm(t('cancel.confirm'))) return;
    try {
      await api(`/cases/${kase.id}/cancel`, { json: formData(f) });
    } catch (err) {
      // The case moved on while she had it open (its note signed, say): shown as it now
      // stands, with why it was not cancelled, rather than a form for a step it has passed.
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
      await reload();
      say(err.message, 'error');
      return;
    }
    f.reset();
    await reload();
  });
}
