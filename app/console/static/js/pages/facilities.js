// Facilities (coordinators and admins): register a clinic or mission hospital, see every
// facility with its time now, and change one (its name, zone, languages and what it has
// on site). A change carries If-Match: someone else's save meanwhile (a 412) is shown
// beside hers and never overwritten unasked; she saves hers over it or takes theirs.
import {
  $, ApiError, all, api, countryChoices, countryName, factRows, fillForm, formData, h, labelCells, languageNames, localTime, say, showProblem, t, zoneChoices, zoneName,
} from '../core.js';
import { takeLanguages } from '../languages.js';

export default async function facilities(main) {
  const create = $('#facility-form', main);
  const edit = $('#facility-edit-form', main);
  const table = $('#facility-table', main);
  const theirsBox = $('#facility-theirs', main);
  countryChoices(create.country);
  zoneChoices(create.timezone);
  zoneChoices(edit.timezone);
  let open = null; // the facility in the edit form: { id, name, etag, theirs }
  // Typed since the form was filled or saved: never thrown away unasked.
  let unsaved = false;
  edit.addEventListener('input', () => { unsaved = true; });
  const mayLeave = () => !open || !unsaved || confirm(t('facilities.discard', { name: open.name }));
  // A refusal stays beside its form until she changes something there.
  const problems = [[create, $('#facility-problem', main)], [edit, $('#facility-edit-problem', main)]];
  for (const [form, box] of problems) form.addEventListener('input', () => { box.hidden = true; });
  const refused = (form, box, err) => {
    if (err instanceof ApiError) showProblem(form, err, box);
    else { box.textContent = t('error.offline'); box.hidden = false; }
  };

  async function load() {
    const items = await all('/organizations');
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['field.name', 'field.country', 'case.local_time', 'column.languages', '']
        .map((k) => h('th', { scope: 'col', text: k ? t(k) : '' })))),
      h('tbody', {}, ...items.map((o) => h('tr', { data: { orgId: o.id } },
        h('td', { text: o.name }), h('td', { text: countryName(o.country) }), h('td', { text: localTime(o.timezone) }),
        h('td', { text: languageNames(o.languages) }),
        h('td', {}, h('button', {
          type: 'button', class: 'secondary edit', text: t('action.edit'), 'aria-label': t('facilities.edit', { name: o.name }),
          onclick: () => openEdit(o.id).catch((err) => say(err.message, 'error')),
        }))))));
    labelCells(table);
  }

  async function read(id) {
    const r = await api(`/organizations/${id}`, { raw: true });
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
    return { org: await r.json(), etag: r.headers.get('ETag') };
  }

  async function openEdit(id) {
    if (!mayLeave()) return;
    const { org, etag } = await read(id);
    open = { id, name: org.name, etag, theirs: null };
    fillForm(edit, org);
    takeLanguages(edit.languages); // the line under it names this facility's
    unsaved = false;
    $('#facility-edit-title', main).textContent = t('facilities.edit', { name: org.name });
    theirsBox.hidden = true;
    $('#facility-edit-problem', main).hidden = true;
    $('#facility-edit', main).hidden = false;
    edit.name.focus();
  }

  async function save() {
    takeLanguages(edit.languages); // names typed, sent as their codes
    try {
      const r = await api(`/organizations/${open.id}`, {
        method: 'PATCH', json: formData(edit), headers: { 'If-Match': open.etag }, raw: true,
      });
      if (r.status === 412) {
        // Hers stays in the form; theirs is shown, and a save now goes over their version.
        const { org, etag } = await read(open.id);
        open = { ...open, etag, theirs: org };
        $('#facility-theirs-fields', main).replaceChildren(...factRows([
          [t('field.name'), org.name], [t('field.timezone'), zoneName(org.timezone)],
          [t('column.languages'), languageNames(org.languages) || '—'],
          [t('field.resources_text'), org.local_resources?.text || '—'],
          [t('field.resources_tags'), (org.local_resources?.tags || []).join(', ') || '—'],
        ]));
        theirsBox.hidden = false;
        say(t('facilities.conflict'), 'error');
        return;
      }
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
      open.etag = r.headers.get('ETag');
      unsaved = false;
      theirsBox.hidden = true;
      say(t('saved'));
      await load();
    } catch (err) { refused(edit, $('#facility-edit-problem', main), err); }
  }

  edit.addEventListener('submit', (e) => { e.preventDefault(); save(); });
  $('#keep-mine', main).addEventListener('click', () => save());
  $('#take-theirs', main).addEventListener('click', () => { fillForm(edit, open.theirs); takeLanguages(edit.languages); unsaved = false; theirsBox.hidden = true; });
  $('#edit-close', main).addEventListener('click', () => {
    if (!mayLeave()) return;
    $('#facility-edit', main).hidden = true;
    open = null;
    unsaved = false;
  });

  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    takeLanguages(create.languages);
    try {
      const org = await api('/organizations', { json: formData(create) });
      const done = $('#facility-created', main);
      done.replaceChildren(t('facilities.created', { name: org.name }), ' ',
        h('a', { href: `/admin/users?organization=${encodeURIComponent(org.id)}`, text: t('facilities.invite_people') }));
      done.hidden = false;
      create.reset();
      takeLanguages(create.languages);
      $('#facility-create', main).open = false;
      await load();
    } catch (err) { refused(create, $('#facility-problem', main), err); }
  });
  await load();
}
