import { $, api, homeOf, say, session, signIn, t } from '../core.js';

export default function signin(main) {
  const form = $('#signin-form', main);
  const box = $('#signin-error', main);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    box.hidden = true;
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      await signIn(form.email.value.trim(), form.password.value);
      session.me = await api('/me');
      const next = new URLSearchParams(location.search).get('next');
      // Only a path on this site: `next` never sends anyone elsewhere ("//host" and "/\host"
      // are other sites to a browser), so it is read as an address and kept only if ours.
      // Without one, straight to her first page: through "/" cost a slow link a page more.
      const there = next ? new URL(next, location.origin) : null;
      location.assign(there && next.startsWith('/') && there.origin === location.origin
        ? there.pathname + there.search + there.hash : homeOf(session.me));
    } catch (err) {
      box.textContent = err.status === 429 ? t('signin.too_many') : t('signin.failed');
      box.hidden = false;
      button.disabled = false;
      form.password.focus();
    }
  });
  // A password change ends every session: the page it sends her to says it went through.
  if (new URLSearchParams(location.search).has('password_changed')) say(t('profile.password_changed'));
  form.email.focus();
}
