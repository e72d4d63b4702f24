// Accept, or decline with a reason, an offer made to the signed-in specialist: the inbox's
// cards and an offered case's own page. An accept opens the case, whole; when the offer has
// gone meanwhile (taken, expired) or was declined, `onChange` shows what is true now.
import { ApiError, api, h, navigate, say, t } from './core.js';

export function offerActions(offer, { onChange }) {
  const reasonId = `reason-${offer.id}`;
  const form = h('form', { class: 'decline', hidden: true },
    h('label', { for: reasonId, text: t('field.decline_reason') }),
    h('input', { id: reasonId, name: 'reason', maxlength: 1000 }),
    h('button', { type: 'submit', class: 'secondary', text: t('action.decline') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/offers/${offer.id}/decline`, { json: { reason: form.reason.value || null } });
      say(t('inbox.declined'));
      await onChange();
    } catch (err) { say(err.message, 'error'); }
  });
  const actions = h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'accept', text: t('action.accept'), onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        await api(`/offers/${offer.id}/accept`, { json: {} });
        say(t('inbox.accepted'));
        navigate(`/cases/${offer.case_id}`);
      } catch (err) {
        say(err instanceof ApiError && err.status === 409 ? t('inbox.taken') : err.message, 'error');
        await onChange();
      }
    } }),
    h('button', { type: 'button', class: 'secondary', text: t('action.decline_with_reason'), onclick: () => {
      form.hidden = false;
      form.reason.focus();
    } }));
  return [actions, form];
}
