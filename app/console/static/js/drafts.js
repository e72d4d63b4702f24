// A draft kept on the device: the form's fields in localStorage, a photo in IndexedDB
// (too large for localStorage). Both outlive a closed tab and a dropped link.
const DB = 'console-drafts';

function idb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('files');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await idb();
  return new Promise((resolve, reject) => {
    const t = db.transaction('files', mode);
    const req = fn(t.objectStore('files'));
    t.oncomplete = () => { db.close(); resolve(req?.result); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

export const files = {
  put: (key, blob) => tx('readwrite', (s) => s.put(blob, key)),
  get: (key) => tx('readonly', (s) => s.get(key)).catch(() => undefined),
  drop: (key) => tx('readwrite', (s) => s.delete(key)).catch(() => undefined),
};

export const drafts = {
  get(key) {
    try { return JSON.parse(localStorage.getItem(key)) || null; } catch { return null; }
  },
  put(key, value) { localStorage.setItem(key, JSON.stringify(value)); },
  drop(key) { localStorage.removeItem(key); },
};

// What she is typing in a box that is sent on its own (a consult's message, what a
// follow-up found), kept as she types: a reload on a dropped link, or a page closed by
// mistake, lost it all. `what` names the box (`room:<case id>`, `outcome:<follow-up id>`).
export const typing = {
  key: (me, what) => `console:typing:${me.id}:${what}`,
  get: (me, what) => drafts.get(typing.key(me, what)) || '',
  put(me, what, text) {
    if (text.trim()) drafts.put(typing.key(me, what), text);
    else drafts.drop(typing.key(me, what));
  },
  drop: (me, what) => drafts.drop(typing.key(me, what)),
  // On a clinic's shared phone the next person to sign in finds nothing of what another
  // was typing (her own sign-out deletes it too: `forget`).
  othersGone(me) {
    const mine = `console:typing:${me.id}:`;
    for (const k of Object.keys(localStorage)) {
      if (k.startsWith('console:typing:') && !k.startsWith(mine)) localStorage.removeItem(k);
    }
  },
};

// A phone's photo shrunk to what a specialist needs to see (a slow link thanks it).
export async function shrink(file, max = 1600) {
  if (!file.type.startsWith('image/') || !window.createImageBitmap) return file;
  try {
    const bmp = await createImageBitmap(file);
    const scale = Math.min(1, max / Math.max(bmp.width, bmp.height));
    if (scale === 1 && file.size < 1_500_000) return file;
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bmp.width * scale);
    canvas.height = Math.round(bmp.height * scale);
    canvas.getContext('2d').drawImage(bmp, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.85));
    return blob ? new File([blob], (file.name || 'photo').replace(/\.\w+$/, '') + '.jpg', { type: 'image/jpeg' }) : file;
  } catch {
    return file;
  }
}

// What a person's work left on this device and not sent: a case (queued for the link, or a
// form being filled), messages of a consult, a consult note's unsaved changes. Signing out
// deletes it all, so a clinic's shared phone keeps no patient's data for the next person;
// `unsent` lets her choose to stay and send it first. Keys are the pages' own
// (case_outbox.js, room.js, note.js) and `typing`'s.
function keysOf(me) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k?.startsWith(`console:case-draft:${me.id}`) || (k?.startsWith('console:room-pending:') && k.endsWith(`:${me.id}`))
      || k?.startsWith('console:note-backup:') || k?.startsWith(`console:typing:${me.id}:`)) out.push(k);
  }
  return out;
}

export function unsent(me) {
  const kinds = new Set();
  for (const k of keysOf(me)) {
    const v = drafts.get(k);
    if (k.startsWith('console:case-draft:')) {
      if (v?.pending || Object.values(v?.fields || {}).some((x) => x !== '' && x != null)) kinds.add('case');
    } else if (k.startsWith('console:room-pending:')) {
      if (Array.isArray(v) && v.length) kinds.add('messages');
    } else if (k.startsWith('console:typing:')) {
      kinds.add(k.includes(':room:') ? 'messages' : 'outcome');
    } else if (v) kinds.add('note');
  }
  return [...kinds];
}

export async function forget(me) {
  for (const k of keysOf(me)) localStorage.removeItem(k);
  await files.drop(`console:case-draft:${me.id}:photo`);
}
