// The console's entry: find the session, show the user's navigation, run the page's module,
// and move between pages without a full reload (the access token lives in this page's
// memory, so staying in one document spares a token refresh per click).
import { $, $$, LinkError, api, resumeSession, session, signOut, t, tz, say, zoneName } from './core.js';
import { watchPending } from './case_outbox.js';
import { watchRoomPending } from './room_outbox.js';
import { forget, typing, unsent } from './drafts.js';

let stop = null; // the current page's clean-up (close its sockets, timers)

// A request the link dropped is a LinkError (core.js api); a page's module it dropped fails
// with the browser's own TypeError, in English ("Failed to fetch dynamically imported
// module", "error loading dynamically imported module", "Importing a module script
// failed."): both said in the console's words instead.
const MODULE = /import/i;
const linkDropped = (err) => err instanceof LinkError || !navigator.onLine || (err instanceof TypeError && MODULE.test(err.message));

function whyNot(err) {
  if (err?.status === 404) return t('error.not_found');
  if (linkDropped(err)) return t('error.offline');
  return `${t('error.generic')} ${err.message}`;
}

function showNav() {
  const role = session.me?.role;
  for (const el of $$('[data-roles]')) el.hidden = !role || !el.dataset.roles.split(' ').includes(role);
  $('#who').hidden = !role;
  $('#who-name').textContent = role ? `${session.me.name} · ${t(`role.${role}`)}` : '';
}

// The page speaks English only because her browser asked for no language the console has
// (app/console/i18n.py `guessed`): her own is asked for once she is known, the one her
// messages are written in (hers, else her profile's or her facility's). The language link
// keeps it for this browser session (`found`: not her choice, and gone at sign-out, for
// the next person on a shared phone); the page is loaded again in it when it differs.
async function ownLanguage() {
  if (!document.documentElement.hasAttribute('data-lang-guessed')) return false;
  let language;
  try {
    ({ language } = await api('/me/notification-preferences'));
  } catch {
    return false; // asked again at the next page she opens
  }
  const here = `${location.pathname}${location.search}`; // the server keeps no #fragment
  const link = `/lang/${encodeURIComponent(language)}?found=1&next=${encodeURIComponent(here)}`;
  if (language === document.documentElement.lang || !$(`.langs a[hreflang="${CSS.escape(language)}"]`)) {
    fetch(link, { redirect: 'manual', credentials: 'same-origin' }).catch(() => null); // kept, not shown again
    return false;
  }
  location.replace(link);
  return true;
}

function markCurrent() {
  for (const a of $$('#nav a')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const a of $$('.langs a')) {
    a.href = `/lang/${a.hreflang}?next=${encodeURIComponent(location.pathname + location.search)}`;
  }
}

// The page is usable: a submit hold.js held meanwhile ("still loading") can go now, and
// she is told so, rather than left reading "try again in a moment" for good.
function markReady(page, drawn = false) {
  document.body.dataset.ready = page;
  const wait = document.querySelector('script[data-wait]')?.dataset.wait;
  if (drawn && wait && document.getElementById('status')?.textContent === wait) say(t('app.ready_now'));
}

async function start(main) {
  delete document.body.dataset.ready;
  const page = main.dataset.page;
  const params = JSON.parse(main.dataset.params || '{}');
  if (main.dataset.auth === 'yes' && !session.me) {
    try {
      // Only a session the service ended goes to sign-in: a link that dropped while the
      // page opened used to, and she had to type her password again once it came back.
      if (!(await resumeSession())) {
        location.replace(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      session.me = await api('/me');
      typing.othersGone(session.me);
      if (await ownLanguage()) return; // the page again, in her language
    } catch (err) {
      // Said, with a way back (and taken by itself when the browser hears the link is
      // back); the page marked ready, or hold.js would answer every submit "still loading".
      const again = Object.assign(document.createElement('button'), {
        type: 'button', id: 'page-again', textContent: t('action.try_again'),
      });
      again.addEventListener('click', () => location.reload());
      // Only while this notice is still what she sees: not over a page she went on to.
      const back = () => { if (document.getElementById('page-unreached')) location.reload(); };
      window.addEventListener('online', back, { once: true });
      main.replaceChildren(Object.assign(document.createElement('p'), {
        className: 'error', role: 'alert', id: 'page-unreached', textContent: whyNot(err),
      }), again);
      markReady(page);
      return;
    }
  }
  showNav();
  // A page for other roles (an address typed or followed): said, instead of forms that fail.
  const roles = main.dataset.forRoles; // (`data-roles` is the navigation's own)
  if (roles && session.me && !roles.split(' ').includes(session.me.role)) {
    main.replaceChildren(Object.assign(document.createElement('p'), {
      className: 'error', role: 'alert', id: 'not-for-role', textContent: t('error.not_for_role'),
    }));
    markReady(page);
    return;
  }
  let drawn = true;
  try {
    const mod = await import(`./pages/${page}.js`);
    stop = (await mod.default(main, params)) || null;
  } catch (err) {
    drawn = false;
    main.append(Object.assign(document.createElement('p'), {
      className: 'error', role: 'alert',
      textContent: whyNot(err),
    }));
  }
  markReady(page, drawn); // tests and slow links: the page is usable now
  watchPending(page === 'case_new'); // a case kept on the device goes from any page
  watchRoomPending(); // and so do a room's messages written without a link
  toAnchor();
}

// A link to a part of a page (`/cases/…#followup-form`): once the page has drawn it (the
// browser's own jump came before, while it was hidden), brought into view; a form gets
// its first field focused, to be filled in.
function toAnchor() {
  let id = location.hash.slice(1);
  try { id = decodeURIComponent(id); } catch { /* a malformed escape: the anchor as written */ }
  const el = id && document.getElementById(id);
  if (!el || el.closest('[hidden]')) return;
  el.scrollIntoView({ block: 'start' });
  const first = el instanceof HTMLFormElement
    ? [...el.elements].find((f) => !f.disabled && f.type !== 'hidden' && f.matches('input, select, textarea'))
    : null;
  // A form's first field, else the part itself where it takes focus (tabindex=-1: a
  // follow-up a link led to), so a screen reader starts there too.
  (first || (el.hasAttribute('tabindex') ? el : null))?.focus({ preventScroll: true });
}

// A page the link dropped on the way to (a case just sent, a note just signed, a link she
// followed): gone to when the link returns, rather than leaving her on a spent form with a
// notice that fades. Another navigation replaces it.
let wanted = null; // { href, push, until }
let wantedTimer = null;
let navigation = 0; // the latest go(): an earlier one that answers late is dropped
let fetching = null;
const WANTED_RETRY_MS = 10000; // a lossy link may never tell the browser it was offline
const WANTED_FOR_MS = 120000; // past this she has moved on: not taken off what she does

function retryWanted() {
  clearTimeout(wantedTimer);
  if (!wanted) return;
  if (Date.now() > wanted.until) { wanted = null; return; }
  if (navigator.onLine) go(wanted.href, wanted.push, wanted.until);
  else wantedTimer = setTimeout(retryWanted, WANTED_RETRY_MS);
}

async function go(href, push = true, until = Date.now() + WANTED_FOR_MS) {
  const mine = ++navigation;
  clearTimeout(wantedTimer);
  wanted = null;
  fetching?.abort();
  const ctrl = fetching = new AbortController();
  let doc;
  try {
    const r = await fetch(href, { headers: { Accept: 'text/html' }, signal: ctrl.signal });
    doc = new DOMParser().parseFromString(await r.text(), 'text/html');
  } catch {
    if (mine !== navigation) return; // she went elsewhere meanwhile
    say(t('error.offline'), 'error');
    wanted = { href, push, until };
    wantedTimer = setTimeout(retryWanted, WANTED_RETRY_MS);
    return;
  }
  if (mine !== navigation) return;
  const next = doc.getElementById('main');
  if (!next) { location.href = href; return; }
  if (stop) { try { stop(); } catch { /* a page's clean-up must not block leaving it */ } stop = null; }
  document.title = doc.title;
  const main = document.adoptNode(next);
  $('#main').replaceWith(main);
  if (push) history.pushState({}, '', href);
  markCurrent();
  window.scrollTo(0, 0);
  main.focus();
  await start(main);
}

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target || a.hasAttribute('download') || a.hasAttribute('data-full')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || /^\/(api|static|lang|session)\//.test(url.pathname)) return;
  if (url.hash && url.pathname === location.pathname) return;
  e.preventDefault();
  go(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => go(location.pathname + location.search, false));
window.addEventListener('console:navigate', (e) => go(e.detail.href, !e.detail.replace));
window.addEventListener('online', retryWanted);

$('#signout').addEventListener('click', async () => {
  const me = session.me;
  const left = me ? unsent(me) : [];
  if (left.length && !confirm(t('signout.unsent', { what: left.map((k) => t(`signout.${k}`)).join(', ') }))) return;
  if (stop) stop();
  wanted = null; // nowhere to go on to once she has signed out
  clearTimeout(wantedTimer);
  if (me) await forget(me); // a shared phone keeps nothing of hers for the next person
  await signOut();
  location.assign('/signin');
});
$('#tz').textContent = zoneName(tz);
$('#tz').title = tz; // the id, for whoever needs it
markCurrent();
start($('#main'));
