// A language typed by its name, in her language, in English or in its own ("Nepali",
// "nepalí", "नेपाली"), taken as the code the service keeps ("ne"). A clinic in Nepal was
// told "Nepali" was "not a language code". The names are the browser's (Intl.DisplayNames):
// nothing more to download on a slow link.
import { lang, languageName } from './core.js';

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

// Names the browser may not have (it has none for luo, kln or tet, and says "Bangla" and
// "Filipino" where a clinic may write "Bengali" and "Tagalog"), in English and first, so
// "Filipino" is fil and not tl.
const MORE = {
  luo: ['Luo', 'Dholuo'], kln: ['Kalenjin'], guz: ['Gusii', 'Ekegusii'], mer: ['Meru'],
  kam: ['Kamba', 'Kikamba'], hil: ['Hiligaynon'], war: ['Waray'], tet: ['Tetum'],
  tpi: ['Tok Pisin'], bcl: ['Bikol'], nan: ['Min Nan', 'Hokkien'], ceb: ['Cebuano'],
  ilo: ['Ilocano'], ff: ['Fula', 'Fulani', 'Fulfulde', 'Pulaar'], rn: ['Kirundi', 'Rundi'],
  nd: ['Ndebele', 'North Ndebele'], bn: ['Bengali', 'Bangla'], fil: ['Filipino'], tl: ['Tagalog'],
  prs: ['Dari'], ckb: ['Sorani', 'Central Kurdish'], yue: ['Cantonese'], ht: ['Haitian Creole', 'Kreyòl'],
};

let byName = null; // folded name -> code, built on first use
function names() {
  if (byName) return byName;
  byName = new Map();
  const add = (name, code) => { if (name && !byName.has(fold(name))) byName.set(fold(name), code); };
  for (const [code, list] of Object.entries(MORE)) for (const n of list) add(n, code);
  const shown = [namer(lang), namer('en')];
  for (const code of CODES) {
    for (const n of shown) add(n?.of(code), code);
    add(namer(code)?.of(code), code); // its own name, where the browser has it
  }
  return byName;
}

// A well-formed tag: the service's rule (app/core/schemas.py _BCP47).
const TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/i;

// The code for what she typed. A name becomes its code; a word typed like a name ("Ewe",
// "Lao", "Ga") is read as one before as a code. A well-formed code stays a code, in its
// canonical form ("lao" is lo, "pt-br" pt-BR), whether or not the browser can name it (the
// service takes any; luo has no name here). Anything else is null.
function codeFor(text) {
  const typed = text.trim();
  const named = names().get(fold(typed));
  if (named && /^\p{Lu}\p{Ll}+$/u.test(typed)) return named;
  if (TAG.test(typed)) {
    try { return Intl.getCanonicalLocales(typed)[0]; } catch { return typed.toLowerCase(); }
  }
  return named || null;
}

// A code's name as the console says it (core.js), else in English, else from MORE.
function nameOf(code) {
  const own = languageName(code);
  if (own !== code) return own;
  try { const name = namer('en')?.of(code); if (name) return name; } catch { /* ill-formed */ }
  return MORE[code.split('-')[0]]?.[0] || code;
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
  const known = codes.filter((c) => TAG.test(c));
  line.textContent = known.map(nameOf).join(', ');
  line.hidden = !known.length;
}

document.addEventListener('change', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.hasAttribute('data-languages')) takeLanguages(e.target);
}, true); // before the page's own listeners: what they read (a draft's save) is the codes
