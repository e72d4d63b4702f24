// The note editor. Every pause in typing saves a new version with If-Match: the ETag this
// page last read. A 412 means someone else saved meanwhile: nothing is overwritten, the
// text typed here is kept on the device and the writer chooses. Signing makes it final.
import { $, ApiError, all, api, fmt, h, label, navigate, pill, say, session, t } from '../core.js';
import { drafts } from '../drafts.js';
import { facility } from '../case_parts.js';

const FIELDS = ['assessment', 'recommendations', 'follow_up_plan', 'red_flags', 'referral_advice'];

export default async function noteEditor(main, { note_id: id }) {
  const form = $('#note-form', main);
  const stateEl = $('#save-state', main);
  const BACKUP = `console:note-backup:${id}`;
  let etag = null;
  let note = null;
  let timer = null;
  let saving = null;
  let dirty = false;

  const state = (s, text) => { stateEl.dataset.state = s; stateEl.textContent = text ?? t(`note.state_${s}`); };

  async function load() {
    const r = await api(`/notes/${id}`, { raw: true });
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
    note = await r.json();
    etag = r.headers.get('ETag');
    const backup = drafts.get(BACKUP);
    for (const f of FIELDS) form[f].value = backup?.[f] ?? note[f] ?? '';
    dirty = !!backup;
    $('#note-status', main).replaceWith(Object.assign(pill('note_status', note.status), { id: 'note-status' }));
    const back = $('#back-to-case', main);
    back.href = `/cases/${note.case_id}`;
    const signed = note.status === 'signed';
    for (const el of form.elements) el.disabled = signed;
    $('#note-sign', main).hidden = signed;
    state(signed ? 'signed' : 'idle', signed ? `${t('note.signed_at')} ${fmt(note.signed_at)}` : undefined);
    await versions();
  }

  async function versions() {
    const items = await all(`/notes/${id}/versions`);
    $('#version-list', main).replaceChildren(...items.reverse().map((v) =>
      h('li', { text: `v${v.version} · ${fmt(v.created_at)} · ${label('note_status', v.status)}` })));
  }

  const body = () => Object.fromEntries(FIELDS.map((f) => [f, form[f].value]));

  async function save() {
    clearTimeout(timer);
    if (!dirty || note?.status === 'signed') return;
    if (saving) { await saving; if (!dirty) return; }
    const sent = body();
    dirty = false;
    state('saving');
    saving = (async () => {
      try {
        const r = await api(`/notes/${id}`, { method: 'PATCH', json: sent, headers: { 'If-Match': etag }, raw: true });
        if (r.status === 412) {
          dirty = true;
          state('conflict');
          $('#note-sign', main).disabled = true;
          return;
        }
        if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
        note = await r.json();
        etag = r.headers.get('ETag');
        if (!dirty) drafts.drop(BACKUP);
        state('saved', t('note.saved', { version: note.version, at: fmt(note.updated_at) }));
        versions().catch(() => null);
      } catch (err) {
        dirty = true;
        if (err instanceof ApiError) state('error', err.message);
        else { state('offline'); timer = setTimeout(save, 5000); }
      }
    })();
    await saving;
    saving = null;
  }

  form.addEventListener('input', () => {
    dirty = true;
    drafts.put(BACKUP, body()); // kept on the device until the server has it
    clearTimeout(timer);
    timer = setTimeout(save, 800);
  });

  $('#note-sign', main).addEventListener('click', async () => {
    await save();
    if (dirty) { say(t('note.save_first'), 'error'); return; }
    if (!confirm(t('note.confirm_sign'))) return;
    try {
      await api(`/notes/${id}/sign`, { json: {}, headers: { 'If-Match': etag } });
      drafts.drop(BACKUP);
      say(t('note.signed'));
      navigate(`/cases/${note.case_id}`);
    } catch (err) { say(err.message, 'error'); }
  });

  await load();
  // What the facility has, beside the advice being written. Not awaited: the editor (and
  // its save on leaving) does not wait for it, and works without it (the card stays hidden).
  api(`/cases/${note.case_id}`)
    .then((kase) => facility(main, kase.organization_id, session.me))
    .catch(() => null);
  return () => { clearTimeout(timer); if (dirty) save(); };
}
