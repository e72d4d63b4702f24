import { $, api, homeOf, resumeSession, say, session, signIn, t } from '../core.js';

// Where she goes once signed in: `next` when it is a page of this site, else her first
// page (through "/" cost a slow link a page more). `next` never sends anyone elsewhere
// ("//host" and "/\host" are other sites to a browser): read as an address, kept if ours.
function onward() {
  const next = new URLSearchParams(location.search).get('next');
  const there = next ? new URL(next, location.origin) : null;
  return there && next.startsWith('/') && there.origin === location.origin
    ? there.pathname + there.search + there.hash : homeOf(session.me);
}

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
      location.assign(onward());
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
  // Sent here by a page while still signed in (its link dropped as it opened): on her way,
  // without her password. A bare /signin is the form: on a shared phone the next person
  // must be able to sign in as herself.
  if (!new URLSearchParams(location.search).has('next')) return;
  resumeSession().then(async (signedIn) => {
    if (!signedIn) return;
    session.me = await api('/me');
    location.replace(onward());
  }).catch(() => {});
}
