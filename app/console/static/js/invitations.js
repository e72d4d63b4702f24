// People: the invitations still waiting for an answer, each with who sent it and until when
// its link works, and a way to take one back (asked first: its link stops working). Inviting
// the same address again sends a new link and the old one stops working (the API's rule).
import { $, all, api, fmt, h, label, labelCells, say, t, userName } from './core.js';

export async function waitingInvitations(main, orgName, mayTakeBack) {
  const section = $('#invitations', main);
  const table = $('#invitation-table', main);
  const items = await all('/invitations').catch(() => null);
  if (items === null) { section.hidden = true; return; } // not hers to see
  section.hidden = false;
  $('#invitations-none', main).hidden = items.length > 0;
  table.hidden = !items.length;
  const senders = await Promise.all(items.map((i) => (i.created_by_id ? userName(i.created_by_id) : null)));
  table.replaceChildren(
    h('thead', {}, h('tr', {}, ...['field.email', 'field.role', 'field.organization', 'invitations.sent_by', 'invitations.until', '']
      .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
    h('tbody', {}, ...items.map((inv, i) => h('tr', { data: { invitationId: inv.id } },
      h('td', { class: 'mono', text: inv.email }), h('td', { text: label('role', inv.role) }),
      h('td', { text: orgName.get(inv.organization_id) || '' }), h('td', { text: senders[i] || '' }),
      h('td', { text: fmt(inv.expires_at) }),
      // Only what she may send is hers to take back (the API's rule): no button the API refuses.
      h('td', {}, !mayTakeBack(inv.role) ? null : h('button', { type: 'button', class: 'secondary', text: t('action.withdraw_invitation'), onclick: async () => {
        if (!confirm(t('invitations.confirm_withdraw', { email: inv.email }))) return;
        try {
          await api(`/invitations/${inv.id}`, { method: 'DELETE' });
          say(t('invitations.withdrawn', { email: inv.email }));
        } catch (err) { say(err.message, 'error'); }
        await waitingInvitations(main, orgName, mayTakeBack);
      } }))))));
  labelCells(table);
}
