// Accepting an invitation: the link's token, a name and a password make the account; then
// sign in with it.
import { $, ApiError, signIn, t } from '../core.js';

export default function invite(main, { token }) {
  const form = $('#accept-form', main);
  const box = $('#form-error', main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    box.hidden = true;
    try {
      const r = await fetch(`/api/v1/invitations/${encodeURIComponent(token)}/accept`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: form.name.value, password: form.password.value }),
      });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
      const user = await r.json();
      if (user.email) { await signIn(user.email, form.password.value); location.assign('/'); } else location.assign('/signin');
    } catch (err) {
      box.textContent = err.status === 404 ? t('invite.invalid') : err.message;
      box.hidden = false;
    }
  });
}
