// Password reset: ask for a link (always the same answer, whether or not the address is
// known), then set a new password from the link.
import { $, ApiError, t } from '../core.js';

async function post(path, body) {
  const r = await fetch(`/api/v1${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
}

export default function reset(main, { token }) {
  const ask = $('#reset-request', main);
  const set = $('#reset-set', main);
  const box = $('#form-error', main);
  const done = $('#form-done', main);
  const form = token ? set : ask;
  form.hidden = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    box.hidden = true;
    try {
      if (token) await post(`/auth/password-reset/${encodeURIComponent(token)}`, { password: form.password.value });
      else await post('/auth/password-reset', { email: form.email.value });
      form.hidden = true;
      done.textContent = token ? t('reset.done') : t('reset.sent');
      done.hidden = false;
    } catch (err) {
      box.textContent = err.status === 404 ? t('reset.invalid') : err.message;
      box.hidden = false;
    }
  });
}
