// What every page shares: messages, formatting, the session (access token in memory only),
// API calls, a tiny DOM builder (text only: nothing from the API is parsed as HTML).

// The page's messages in her language: a file the browser keeps (preloaded by the page's
// head, so this waits for no extra round trip). Unreadable: the keys are said instead.
const MESSAGES = await fetch(document.getElementById('catalogue').href).then((r) => r.json()).catch(() => ({}));
export const lang = document.documentElement.lang || 'en';
export const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function t(key, vars) {
  let text = MESSAGES[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

// Times come as UTC; people read them in their own zone, written as her browser writes them
// when it speaks the page's language ("en-GB": 30 Nov 2026, 10:00, not Nov 30, 10:00 AM);
// a browser in a language the console does not speak keeps the page's.
const primary = (tag) => String(tag).toLowerCase().split('-')[0];
export const dateLocale = (() => {
  const own = [...(navigator.languages || []), navigator.language].find((x) => x && primary(x) === primary(lang));
  try { return own ? Intl.DateTimeFormat.supportedLocalesOf([own])[0] || lang : lang; } catch { return lang; }
})();
const dateTime = new Intl.DateTimeFormat(dateLocale, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(dateLocale, { dateStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(dateLocale, { timeStyle: 'short' });
export const fmt = (iso) => (iso ? dateTime.format(new Date(iso)) : '');
export const fmtDate = (iso) => (iso ? dateOnly.format(new Date(iso)) : '');
export const fmtTime = (iso) => (iso ? timeOnly.format(new Date(iso)) : '');
// A wall time as written where it happens ("2026-12-08T09:00", no zone: a round's start at
// its host), in her language, not moved to her zone.
const wallTime = new Intl.DateTimeFormat(dateLocale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
export const fmtWall = (local) => (local ? wallTime.format(new Date(`${local.slice(0, 16)}:00Z`)) : '');
// A time zone as a person reads it: its city and its name in her language ("Kolkata, heure
// de l'Inde", "Salta, hora de Argentina"), not the bare IANA id; what the browser cannot
// name reads as the id.
// A city renamed since its zone's id was given (the browser may still say Asia/Calcutta
// where the server says Asia/Kolkata) reads by today's name: one zone, one name everywhere.
const RENAMED = {
  Calcutta: 'Kolkata', Saigon: 'Ho Chi Minh', Katmandu: 'Kathmandu', Rangoon: 'Yangon',
  Kiev: 'Kyiv', Dacca: 'Dhaka', Godthab: 'Nuuk', Faeroe: 'Faroe', 'Ulan Bator': 'Ulaanbaatar',
};
const zoneNames = new Map();
export function zoneName(zone) {
  if (!zone) return '';
  if (!zoneNames.has(zone)) {
    let city = zone.split('/').pop().replaceAll('_', ' ');
    city = RENAMED[city] || city;
    let said = zone;
    try {
      const named = new Intl.DateTimeFormat(lang, { timeZone: zone, timeZoneName: 'longGeneric' })
        .formatToParts(new Date()).find((x) => x.type === 'timeZoneName')?.value;
      said = /^(UTC|GMT)$/.test(city) || !named || named === city ? city : `${city}, ${named}`;
    } catch { /* a zone this browser does not know: the id */ }
    zoneNames.set(zone, said);
  }
  return zoneNames.get(zone);
}
// The time now where someone else is (a facility, a specialist), with the zone's name.
export function localTime(zone) {
  try {
    const now = new Intl.DateTimeFormat(dateLocale, { weekday: 'short', hour: 'numeric', minute: '2-digit', timeZone: zone })
      .format(new Date());
    return `${now} (${zoneName(zone)})`;
  } catch { return zone; } // a zone this browser does not know: the name alone
}
export const fmtNumber = (n, digits = 0) =>
  n == null ? '—' : new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);

// A facts list's terms and values (a <dl>): [[term, value], ...], a value text or an element.
export const factRows = (rows) => rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v ?? '')]);

export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'data') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // plain-http LANs have no randomUUID
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// While an action reloads what it changed, the region is aria-busy: a screen reader waits
// for it, and so do the browser tests (settled(), tests/console/support.py), instead of
// acting on a list about to be replaced.
const pendingWork = new WeakMap();
export async function busy(el, work) {
  pendingWork.set(el, (pendingWork.get(el) || 0) + 1);
  el.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    const left = pendingWork.get(el) - 1;
    pendingWork.set(el, left);
    if (!left) el.removeAttribute('aria-busy');
  }
}

export function say(text, kind = 'info') {
  const box = document.getElementById('status');
  box.textContent = text;
  box.dataset.kind = kind;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { box.textContent = ''; }, 6000);
}

// ---- the session -------------------------------------------------------------------
export const session = { token: null, expiresAt: 0, me: null };
// Each role's first page: where "/" takes her, and sign-in when it was not asked for another.
const HOME = { clinician: '/cases', interpreter: '/cases', specialist: '/inbox', coordinator: '/queue', admin: '/admin/users' };
export const homeOf = (me) => HOME[me?.role] || '/profile';
let refreshing = null;

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : '';
}

function keep(body) {
  session.token = body.access_token;
  session.expiresAt = Date.now() + body.expires_in * 1000;
  clearTimeout(keep.timer);
  // A fresh token a minute before this one runs out; open sockets hear of it.
  keep.timer = setTimeout(refresh, Math.max(5000, body.expires_in * 1000 - 60000));
  window.dispatchEvent(new CustomEvent('console:token', { detail: session.token }));
}

// True: a fresh token. False: the session has ended (refused, or never signed in here).
// A dropped link or a server that cannot answer now is neither: it throws, and says which.
async function refreshOnce() {
  if (!cookie('console_csrf')) return false; // never signed in here: nothing to refresh
  const r = await fetch('/session/refresh', {
    method: 'POST',
    headers: { 'X-CSRF-Token': cookie('console_csrf') },
    credentials: 'same-origin',
  }).catch((err) => { throw new LinkError(err); });
  if (r.status === 401 || r.status === 403) { session.token = null; forgetSession(); return false; }
  if (!r.ok) throw new ApiError(r.status, await problemOf(r));
  keep(await r.json());
  return true;
}

// One refresh at a time across this browser's tabs: a refresh token is spent when used,
// and two tabs spending the same one would end the session (reuse revokes the family).
export function resumeSession() {
  if (!refreshing) {
    refreshing = (navigator.locks ? navigator.locks.request('console-refresh', refreshOnce) : refreshOnce())
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

// For a request about to go: false also when the link is down (the request then says so).
export const refresh = () => resumeSession().catch(() => false);

export async function signIn(email, password) {
  const r = await fetch('/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
    credentials: 'same-origin',
  });
  if (!r.ok) throw new ApiError(r.status, await problemOf(r));
  keep(await r.json());
}

export async function signOut() {
  await fetch('/session/end', {
    method: 'POST', headers: { 'X-CSRF-Token': cookie('console_csrf') }, credentials: 'same-origin',
  }).catch(() => null);
  session.token = null;
  session.me = null;
  forgetSession(); // a sign-out the link lost must not be resumed on this (shared) phone
}

// Without the CSRF cookie this device asks for no refresh: the session is over here.
function forgetSession() { document.cookie = 'console_csrf=; Max-Age=0; Path=/'; }

// ---- the API -----------------------------------------------------------------------
// The service's words are English (and the most precise in English); in another language a
// refusal a person meets often is said in hers, by its kind (the problem's `type`).
// No answer at all: the link dropped. Its message is hers (`error.offline`), so a handler
// saying `err.message` never says fetch's English "Failed to fetch" (kept as the cause).
export class LinkError extends Error { constructor(cause) { super(t('error.offline'), { cause }); } }

// A refusal in her words: the problem's kind in her language, else the service's words.
export const problemText = (kind, detail) => (lang !== 'en' && kind && MESSAGES[`problem.${kind}`]) || detail || kind;

export class ApiError extends Error {
  constructor(status, problem) {
    const kind = String(problem?.type || '').split('/').pop();
    super(problemText(kind, problem?.detail || problem?.title || `HTTP ${status}`));
    this.status = status;
    this.problem = problem || {};
  }
}

async function problemOf(r) {
  try { return await r.json(); } catch { return { title: r.statusText }; }
}

// A box full to its limit says so: the browser cuts what is typed or pasted past it
// without a word (a long history pasted into the question lost its end unseen).
// Said under the box as well: on a phone the status line is a long form's length above it.
document.addEventListener('input', (e) => {
  const el = e.target;
  if (!(el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement) || !(el.maxLength > 0)) return;
  const id = `${el.id || el.name}-full`;
  const described = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
  if (el.value.length >= el.maxLength) {
    const text = t('form.full', { n: fmtNumber(el.maxLength) });
    say(text, 'error');
    if (!document.getElementById(id)) el.after(h('p', { class: 'error field-problem', id, role: 'alert', text }));
    el.setAttribute('aria-describedby', [id, ...described].join(' '));
  } else if (document.getElementById(id)) {
    document.getElementById(id).remove();
    if (described.length) el.setAttribute('aria-describedby', described.join(' '));
    else el.removeAttribute('aria-describedby');
  }
});

// A form's write in flight holds the form: a change (POST, PUT, PATCH, DELETE) a submit
// handler starts at once, before its first await, keeps further submits of that form
// ignored until it has answered and the handler has taken the answer (a double click on
// "Save" would send a second save on the version the first one replaced, refused as changed
// elsewhere; on "Create", make two). The form is aria-busy meanwhile. A form meant to send
// again while one goes (the room's messages) carries data-repeat.
let submitting = null; // the form whose submit event is being handled
const writes = new WeakMap(); // form -> its writes in flight
document.addEventListener('submit', (e) => {
  if (writes.get(e.target)) { e.preventDefault(); e.stopImmediatePropagation(); return; }
  submitting = e.target.hasAttribute('data-repeat') ? null : e.target;
}, true);
window.addEventListener('submit', () => { submitting = null; }); // every handler has run

function hold(form, request) {
  writes.set(form, (writes.get(form) || 0) + 1);
  form.setAttribute('aria-busy', 'true');
  const done = () => setTimeout(() => { // after the handler's own reading of the answer
    const left = writes.get(form) - 1;
    writes.set(form, left);
    if (!left) form.removeAttribute('aria-busy');
  });
  request.then(done, done);
}

// opts: method, json, body (FormData), headers, key (Idempotency-Key), raw (the Response),
// root (a path outside /api/v1: the audit log)
export function api(path, opts = {}) {
  const method = opts.method || (opts.json !== undefined || opts.body ? 'POST' : 'GET');
  const request = call(path, opts, method);
  if (submitting && method !== 'GET') hold(submitting, request);
  return request;
}

async function call(path, opts, method) {
  if (!session.token) await refresh();
  const send = () => {
    const headers = { ...(opts.headers || {}) };
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    if (method === 'POST') headers['Idempotency-Key'] = opts.key || uuid();
    return fetch(opts.root ? path : `/api/v1${path}`, { method, headers, body })
      .catch((err) => { throw new LinkError(err); });
  };
  let r = await send();
  if (r.status === 401 && (await refresh())) r = await send();
  if (opts.raw) return r;
  if (!r.ok) throw new ApiError(r.status, await problemOf(r));
  if (r.status === 204) return null;
  return r.json();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A person's name where the directory lets this viewer see her, else null. Read once per
// person while the console is open (pages are redrawn at every live frame); a refusal or a
// dropped link is asked again next time.
const userNames = new Map(); // user id -> Promise<name | null>
export function userName(id) {
  if (!userNames.has(id)) {
    userNames.set(id, api(`/users/${id}`).then((u) => u.name, () => { userNames.delete(id); return null; }));
  }
  return userNames.get(id);
}

// Every page of a list, up to a limit (lists are short); `more` says some were left unread.
export async function all(path, max = 500) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return Object.assign(out, { more: Boolean(cursor) });
}

// `replace`: the page stands in for this address (history already says where she is).
export function navigate(href, { replace = false } = {}) {
  window.dispatchEvent(new CustomEvent('console:navigate', { detail: { href, replace } }));
}

// ---- forms -------------------------------------------------------------------------
// Field names with dots nest (`patient.age_years`); data-type says number, bool, list or
// text (free text the API takes as a string, empty included: an empty one is not null).
export function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.type === 'file' || el.type === 'submit' || el.disabled) continue;
    let v;
    const type = el.dataset.type;
    if (el.type === 'checkbox' && type !== 'bool') {
      if (!el.checked) continue;
      const prev = out[el.name];
      out[el.name] = [...(prev || []), el.value];
      continue;
    }
    if (type === 'bool') v = el.checked;
    else if (type === 'number') v = el.value === '' ? null : Number(el.value);
    else if (type === 'list') v = el.value.split(',').map((s) => s.trim()).filter(Boolean);
    else if (type === 'text') v = el.value;
    else v = el.value === '' ? null : el.value;
    const parts = el.name.split('.');
    let target = out;
    for (const p of parts.slice(0, -1)) target = target[p] ??= {};
    target[parts.at(-1)] = v;
  }
  return out;
}

export function fillForm(form, data) {
  for (const el of form.elements) {
    if (!el.name || el.type === 'file') continue;
    const v = el.name.split('.').reduce((o, k) => (o == null ? o : o[k]), data);
    if (v === undefined) continue;
    if (el.type === 'checkbox') el.checked = !!v;
    else if (Array.isArray(v)) el.value = v.join(', ');
    else el.value = v ?? '';
  }
}

// A problem's field errors, shown beside their fields; the rest in the box given.
// A refusal said on its form, in the viewer's language where the service gave a reason's
// kind (`code`): each field by its label, what is wrong with it; else the service's words.
// A list's rows are found by the pointer the page sent each under: a row marked
// `data-pointer="/availability/5"` and `data-label="Window 6 (Tuesday 09:00-08:00)"` takes
// `/availability/5` (all its inputs) and `/availability/5/end` (its input named, or
// `data-field`, `end`). An item of a list typed in one field (`/languages/1` for "es, xx")
// is that field, the item named. With a box, the refusal stays there (until the page hides
// it); without, it is said in the passing status line.
function labelOf(form, el) {
  return (el?.id && form.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent.trim()) || '';
}

function problemField(form, pointer) {
  const path = pointer.replace(/^(#query)?\//, '');  // a body's field or a filter's
  const parts = path.split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  for (let n = parts.length; n > 0; n -= 1) {
    const at = `/${parts.slice(0, n).join('/')}`;
    const row = form.querySelector(`[data-pointer="${CSS.escape(at)}"]`);
    if (!row) continue;
    const rest = parts.slice(n).join('.');
    const one = rest && (row.querySelector(`[data-field="${CSS.escape(rest)}"]`) || row.querySelector(`[name="${CSS.escape(rest)}"]`));
    const sub = one && labelOf(form, one);
    return {
      els: one ? [one] : [...row.querySelectorAll('input, select, textarea')],
      name: [row.dataset.label || at, sub].filter(Boolean).join(', '),
    };
  }
  const name = parts.join('.');
  let el = form.elements.namedItem(name);
  let item = null;
  const index = name.match(/^(.+)\.(\d+)$/);
  if (!el && index) {  // one item of a list: the list's own field
    el = form.elements.namedItem(index[1]);
    if (el?.setAttribute && typeof el.value === 'string') {
      item = el.value.split(',').map((s) => s.trim()).filter(Boolean)[Number(index[2])] ?? null;
    }
  }
  if (el && !el.setAttribute && el.length) {  // several inputs of one name (check boxes)
    const els = [...el];
    return { els, name: els[0].closest('fieldset')?.querySelector('legend')?.textContent.trim() || name };
  }
  const field = labelOf(form, el) || name;
  return { els: el?.setAttribute ? [el] : [], name: item ? t('error.list_item', { field, item }) : field, item };
}

export const COLON = lang === 'fr' ? '\u00a0:' : ':'; // French sets a space before a colon

// A message under its field (`beside`, or a form's own check): the field marked invalid and
// its aria-describedby naming the message first, so a screen reader says it with the field;
// both go as soon as she changes that field. Several check boxes of one name share one.
const unmarkOnEdit = (e) => clearFieldError(e.currentTarget);
export function fieldError(els, text) {
  const list = [els].flat();
  const id = `${list[0].id || list[0].name.replace(/\W/g, '-')}-field-error`;
  let msg = document.getElementById(id);
  if (msg) msg.append(h('br'), text);
  else {
    msg = h('p', { class: 'error field-error', id, text });
    const last = list.at(-1);
    (last.closest('.check') || last).after(msg);
  }
  for (const el of list) {
    el.setAttribute('aria-invalid', 'true');
    const rest = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
    el.setAttribute('aria-describedby', [id, ...rest].join(' '));
    el.addEventListener('input', unmarkOnEdit); // the same listener once, however often marked
    el.addEventListener('change', unmarkOnEdit);
  }
}

export function clearFieldError(el) {
  el.removeAttribute('aria-invalid');
  for (const id of (el.getAttribute('aria-describedby') || '').split(' ')) {
    if (!id.endsWith('-field-error')) continue;
    for (const other of document.querySelectorAll(`[aria-describedby~="${CSS.escape(id)}"]`)) {
      other.removeAttribute('aria-invalid');
      const rest = other.getAttribute('aria-describedby').split(' ').filter((x) => x && x !== id);
      if (rest.length) other.setAttribute('aria-describedby', rest.join(' '));
      else other.removeAttribute('aria-describedby');
    }
    document.getElementById(id)?.remove();
  }
}

// `beside`: each field's reason under it (fieldError), the box a short summary; answers the
// first field marked (to focus), or null.
export function showProblem(form, err, box, { beside = false } = {}) {
  for (const el of form.querySelectorAll('[aria-invalid]')) clearFieldError(el);
  const lines = [];
  let first = null;
  for (const e of err.problem?.errors || []) {
    const { els, name, item } = problemField(form, e.pointer || '');
    const why = e.code && MESSAGES[`invalid.${e.code}`] ? t(`invalid.${e.code}`, { limit: e.limit ?? '' }) : e.detail;
    if (beside && els.length) {
      fieldError(els, item ? `${name}${COLON} ${why}` : why); // its label is just above it
      first ??= els[0];
      continue;
    }
    for (const el of els) el.setAttribute('aria-invalid', 'true');
    lines.push(`${name}${COLON} ${why}`);
  }
  const head = err.problem?.type?.endsWith('/validation-error') ? t('error.fields_invalid') : err.message;
  if (box) {
    // One line each: a person reads down the rows she has to put right.
    box.replaceChildren(head, ...lines.flatMap((line) => [h('br'), line]));
    box.hidden = false;
  } else say([head, ...lines].join(' — '), 'error');
  return first;
}

// At a phone's width the rows of a `table.stack` stack as cards (console.css): each cell
// shows its column's head, copied here. Call it after the rows are drawn.
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, i) => { if (heads[i]) cell.dataset.label = heads[i]; });
  }
}

// A time-zone field suggests today's IANA names (the page's #zone-names, from the server's
// zone database: a browser's own list still puts Asia/Calcutta before Asia/Kolkata), so
// "America/Argentina/Salta" need not be typed whole or guessed; the server checks it.
export function zoneChoices(input) {
  if (document.getElementById('zone-names')) input.setAttribute('list', 'zone-names');
  input.autocomplete = 'off';
  input.spellcheck = false;
}

// A country's name in the viewer's language (Intl.DisplayNames: nothing downloaded) for
// the ISO 3166-1 code the API keeps; a code the browser cannot name reads as itself.
const regions = Intl.DisplayNames ? new Intl.DisplayNames([lang], { type: 'region', fallback: 'none' }) : null;
export function countryName(code) {
  try { return (code && regions?.of(code)) || code || ''; } catch { return code || ''; }
}
// A language's name in the viewer's language, the same way: "es" reads "español" in
// Spanish, "espagnol" in French; a code the browser cannot name reads as itself.
const languages = Intl.DisplayNames ? new Intl.DisplayNames([lang], { type: 'language', fallback: 'none' }) : null;
export function languageName(code) {
  try { return (code && languages?.of(code)) || code || ''; } catch { return code || ''; }
}
export const languageNames = (codes) => (codes || []).map(languageName).join(', ');
// A <select> of the countries its data-codes lists (the current ISO codes, from the server),
// by name in her language.
export function countryChoices(select) {
  const order = new Intl.Collator(lang);
  const named = select.dataset.codes.split(' ').map((code) => [code, countryName(code)]);
  named.sort((a, b) => order.compare(a[1], b[1]));
  select.append(...named.map(([code, name]) => h('option', { value: code, text: name })));
}

// A code's name in the viewer's language; an unknown code reads as itself.
export function label(prefix, value) {
  if (value == null) return '';
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value).replaceAll('_', ' ') : text;
}

export function pill(prefix, value) {
  return h('span', { class: `pill ${prefix}-${value}`, text: label(prefix, value) });
}
