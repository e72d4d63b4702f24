// People: invite someone (the invitation emails a single-use link), see who is here, set
// the languages an interpreter speaks (shown to whoever adds one to a case), and switch an
// account off (after a confirmation naming the person) or on (an admin anyone; a
// coordinator those she may invite).
import {
  $, ApiError, all, api, fmt, formData, h, labelCells, label, languageNames, say, session, showProblem, t,
} from '../core.js';
import { waitingInvitations } from '../invitations.js';
import { takeLanguages } from '../languages.js';

// Whom each role may invite, as the server decides it (app/auth/access.py, can_create: an
// admin anyone; a coordinator clinicians, specialists and interpreters). The API does not
// say it, so it is mirrored here and only here: the form offers no role the server refuses.
const INVITES = {
  admin: ['clinician', 'specialist', 'interpreter', 'coordinator', 'admin'],
  coordinator: ['clinician', 'specialist', 'interpreter'],
};

export default async function users(main) {
  const admin = session.me.role === 'admin';
  const mayTakeBack = (role) => (INVITES[session.me.role] || []).includes(role);
  // Switched off or on by whoever may invite that role (the service also lets a coordinator
  // switch off another coordinator; the console offers it to admins only): never herself.
  const maySwitch = (u) => u.id !== session.me.id && mayTakeBack(u.role);
  const table = $('#user-table', main);
  const orgs = await all('/organizations').catch(() => []);
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  const form = $('#invite-form', main);
  form.organization_id.append(...orgs.map((o) => h('option', { value: o.id, text: o.name })));
  form.role.append(...(INVITES[session.me.role] || []).map((r) => h('option', { value: r, text: label('role', r) })));
  // Come from a facility just registered: its people are the ones to invite.
  const chosen = new URLSearchParams(location.search).get('organization');
  if (chosen && orgs.some((o) => o.id === chosen)) { form.organization_id.value = chosen; form.role.value = 'clinician'; }
  const problem = $('#invite-problem', main);
  form.addEventListener('input', () => { problem.hidden = true; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    $('#invite-state', main).textContent = ''; // the last invitation's line is not this one's
    problem.hidden = true;
    const body = formData(form);
    if (!body.organization_id) delete body.organization_id;
    try {
      const inv = await api('/invitations', { json: body });
      $('#invite-state', main).textContent = t('users.invited', { email: body.email, until: fmt(inv.expires_at) });
      form.reset();
      await waitingInvitations(main, orgName, mayTakeBack);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) say(t('error.not_available'), 'error');
      else if (err instanceof ApiError) showProblem(form, err, problem);
      else say(t('error.offline'), 'error');
    }
  });

  async function deactivateQuestion(u) {
    let open = 0;
    if (u.role === 'specialist') {
      try { open = (await api(`/specialists/${u.id}`)).active_cases || 0; } catch { open = 0; }
    }
    return open
      ? t('users.confirm_deactivate_cases', { name: u.name, count: open })
      : t('users.confirm_deactivate', { name: u.name });
  }

  // An interpreter's languages (what the case page's picker shows); anyone else's only
  // where some are on file (a specialist's own are on her specialist profile).
  const spoken = (u) => (u.languages?.length ? languageNames(u.languages)
    : u.role === 'interpreter' ? t('people.languages_none') : '');
  // Changed where they are shown: the cell becomes a small form; saved, the table is redrawn.
  // The server lets a coordinator change anyone but an admin (app/auth/access.py).
  const mayEditLanguages = (u) => u.role === 'interpreter' && (admin || session.me.role === 'coordinator');
  function editLanguages(cell, u) {
    const id = `languages-${u.id}`;
    const problem = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { class: 'languages-form', method: 'post' },
      h('label', { for: id, text: t('field.languages') }),
      h('input', { id, name: 'languages', 'data-type': 'list', 'data-languages': '', value: (u.languages || []).join(', '), autocomplete: 'off' }),
      problem,
      h('button', { type: 'submit', text: t('action.save') }), ' ',
      h('button', { type: 'button', class: 'secondary', text: t('action.close'), onclick: () => cell.replaceChildren(spoken(u)) }));
    form.addEventListener('input', () => { problem.hidden = true; });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      takeLanguages(form.languages); // names typed, sent as their codes
      try {
        await api(`/users/${u.id}`, { method: 'PATCH', json: { languages: formData(form).languages } });
        say(t('users.languages_saved', { name: u.name }));
        await load();
      } catch (err) {
        if (err instanceof ApiError) showProblem(form, err, problem);
        else say(t('error.offline'), 'error');
      }
    });
    cell.replaceChildren(form);
    form.languages.focus();
  }

  async function load() {
    const items = await all('/users');
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['field.name', 'field.email', 'field.role', 'field.organization', 'column.languages', 'field.status', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((u) => {
        const languages = h('td', { class: 'user-languages', text: spoken(u) });
        return h('tr', { data: { userId: u.id } },
          h('td', { text: u.name }), h('td', { class: 'mono', text: u.email }), h('td', { text: label('role', u.role) }),
          h('td', { text: orgName.get(u.organization_id) || '' }), languages,
          h('td', { text: u.active ? t('users.active') : t('users.inactive') }),
          h('td', {}, mayEditLanguages(u) ? h('button', { type: 'button', class: 'secondary',
            text: t('users.edit_languages'), onclick: () => editLanguages(languages, u) }) : null,
          mayEditLanguages(u) && maySwitch(u) ? ' ' : null,
          maySwitch(u) ? h('button', { type: 'button', class: 'secondary',
            text: u.active ? t('action.deactivate') : t('action.activate'), onclick: async () => {
              // Switching someone off signs them out at once: asked first, naming them, and
              // saying what becomes of the cases a specialist has not answered yet.
              if (u.active && !confirm(await deactivateQuestion(u))) return;
              try { await api(`/users/${u.id}`, { method: 'PATCH', json: { active: !u.active } }); await load(); } catch (err) { say(err.message, 'error'); }
            } }) : null));
      })));
    labelCells(table);
  }
  await Promise.all([load(), waitingInvitations(main, orgName, mayTakeBack)]);
}
