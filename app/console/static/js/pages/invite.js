// Accepting an invitation: the link's token, a name and a password make the account; then
// sign in with it.
import { $, ApiError, signIn, t } from '../core.js';

// The link itself is no good: unknown (404), used or expired (410), or damaged so that it
// is not a token at all (422 pointing at the path's token, not at a field of the form).
function linkBad(err) {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 404 || err.status === 410) return true;
  return err.status === 422 && (err.problem.errors || []).some((e) => String(e.pointer).startsWith('#path/'));
}

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
      box.textContent = linkBad(err) ? t('invite.invalid') : err.message;
      box.hidden = false;
    }
  });
}
