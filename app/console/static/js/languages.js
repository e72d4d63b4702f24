// A language typed by its name, in her language, in English or in its own ("Nepali",
// "nepalí", "नेपाली"), taken as the code the service keeps ("ne"). A clinic in Nepal was
// told "Nepali" was "not a language code". The names are the browser's (Intl.DisplayNames):
// nothing more to download on a slow link.
import { lang, languageNames } from './core.js';

// ISO 639-1, and the 639-3 languages the programme's facilities speak without one.
const CODES = (
  'aa ab af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy '
  + 'da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht '
  + 'hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky '
  + 'la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny '
  + 'oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss '
  + 'st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo '
  + 'za zh zu luo kln guz mer kam ckb prs fil ceb ilo hil war tet tpi bcl yue nan'
).split(' ');

const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();

function namer(locale) {
  try { return new Intl.DisplayNames([locale], { type: 'language', fallback: 'none' }); } catch { return null; }
}

let byName = null; // folded name -> code, built on first use
function names() {
  if (byName) return byName;
  byName = new Map();
  const add = (name, code) => { if (name && !byName.has(fold(name))) byName.set(fold(name), code); };
  const shown = [namer(lang), namer('en')];
  for (const code of CODES) {
    for (const n of shown) add(n?.of(code), code);
    add(namer(code)?.of(code), code); // its own name
  }
  return byName;
}

// The code for what she typed: a code the browser can name stays as it is (region and
// script too: "pt-BR"); a name becomes its code; anything else is null.
export function codeFor(text) {
  const typed = text.trim();
  if (/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i.test(typed)) {
    const [first, ...rest] = typed.split('-');
    const code = [first.toLowerCase(), ...rest].join('-');
    try { if (namer(lang)?.of(code)) return code; } catch { /* not a well-formed tag */ }
  }
  return names().get(fold(typed)) || null;
}

// A field of languages (`data-languages`): the names typed in it become codes when she
// leaves it, and its line `#<id>-understood`, where there is one, says which languages they
// are ("Nepali, English" under "ne, en"). A name no browser knows stays as typed: the
// page's own check, or the service, says so beside the field.
export function takeLanguages(input) {
  const typed = input.value.split(',').map((x) => x.trim()).filter(Boolean);
  const codes = typed.map((x) => codeFor(x) || x);
  if (codes.join(', ') !== typed.join(', ')) input.value = codes.join(', ');
  const line = document.getElementById(`${input.id}-understood`);
  if (!line) return;
  const known = codes.filter((c) => codeFor(c));
  line.textContent = known.length ? languageNames(known) : '';
  line.hidden = !known.length;
}

document.addEventListener('change', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.hasAttribute('data-languages')) takeLanguages(e.target);
}, true); // before the page's own listeners: what they read (a draft's save) is the codes
