// The facility's own page, where its clinicians keep what it has on site current. A save
// carries If-Match: the ETag this page last read. Someone else's save meanwhile (a 412) is
// never overwritten unasked: theirs is shown beside the form, hers stays in it, and she
// keeps hers (saved over theirs, knowingly) or takes theirs.
import { $, ApiError, api, countryName, factRows, h, languageNames, say, session, showProblem, t, zoneName } from '../core.js';

export default async function facility(main) {
  const orgId = session.me.organization_id;
  if (!orgId) { $('#facility', main).append(h('p', { text: t('facility.none') })); return; }
  const form = $('#resources-form', main);
  const choice = $('#resources-choice', main);
  const problem = $('#resources-problem', main);
  const text = form.elements['local_resources.text'];
  const tags = form.elements['local_resources.tags'];
  let etag = null; // of the version the form was filled from (or chosen over)

  async function read() {
    const r = await api(`/organizations/${orgId}`, { raw: true });
    if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
    etag = r.headers.get('ETag');
    return r.json();
  }
  const tagsOf = (lr) => (lr?.tags || []).join(', ');
  const fill = (lr) => { text.value = lr?.text || ''; tags.value = tagsOf(lr); };
  const mine = () => ({
    text: text.value,
    tags: tags.value.split(',').map((s) => s.trim()).filter(Boolean),
  });

  const org = await read();
  $('#facility', main).replaceChildren(...factRows([
    [t('field.name'), org.name],
    [t('field.country'), countryName(org.country)],
    [t('field.timezone'), zoneName(org.timezone)],
    [t('column.languages'), languageNames(org.languages)],
  ]));
  fill(org.local_resources);

  // Theirs beside hers: she saves hers over it (now on their version) or takes theirs.
  function chooseBetween(theirs) {
    $('#resources-choice-fields', main).replaceChildren(...factRows([
      [t('field.resources_text'), theirs?.text || '—'],
      [t('field.resources_tags'), tagsOf(theirs) || '—'],
    ]));
    $('#resources-choice-actions', main).replaceChildren(
      h('button', { type: 'button', class: 'keep-mine', text: t('facility.keep_mine'), onclick: () => save() }),
      h('button', { type: 'button', class: 'secondary take-theirs', text: t('facility.take_theirs'), onclick: () => { fill(theirs); choice.hidden = true; } }),
    );
    choice.hidden = false;
  }

  async function save() {
    try {
      const r = await api(`/organizations/${orgId}`, {
        method: 'PATCH',
        json: { local_resources: mine() },
        headers: etag ? { 'If-Match': etag } : {},
        raw: true,
      });
      if (r.status === 412) {
        const theirs = await read(); // her text stays in the form
        chooseBetween(theirs.local_resources);
        say(t('facility.conflict'), 'error');
        return;
      }
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
      etag = r.headers.get('ETag');
      choice.hidden = true;
      problem.hidden = true;
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      say(t('saved'));
    } catch (err) {
      // A refusal names its fields beside the form (her text stays); no answer at all is
      // the link, said in her words.
      if (err instanceof ApiError) showProblem(form, err, problem);
      else say(t('error.offline'), 'error');
    }
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
}
