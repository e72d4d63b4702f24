// An open follow-up planned again: a new due time (the patient comes on Monday, not
// Friday) or a new owner (the nurse who was to see her is away). Before, the only way was
// to cancel it and plan another, which counted it as cancelled and lost its thread.
import { ApiError, api, fmt, h, say, showProblem, t, tz, zoneName } from './core.js';

// A moment as a datetime-local box shows it: the viewer's wall time, to the minute.
function wallTime(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

// `who`: [[user id, how she is named]] as the plan form offers them; `after`: what to draw
// again once it is saved (the list and the case's record).
export function replanForm(fu, { who, owner, after }) {
  const when = `fu-when-${fu.id}`;
  const whom = `fu-whom-${fu.id}`;
  const choices = who.some(([id]) => id === fu.assignee_id) ? who : [...who, [fu.assignee_id, owner]];
  const select = h('select', { id: whom, name: 'assignee_id' },
    ...choices.map(([id, text]) => h('option', { value: id, text })));
  select.value = fu.assignee_id;
  const box = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'fu-replan-form', method: 'post' },
    h('label', { for: when, text: t('followups.due_your_time', { zone: zoneName(tz) }) }),
    h('input', { id: when, name: 'due_at', type: 'datetime-local', required: true, value: wallTime(fu.due_at) }),
    h('label', { for: whom, text: t('field.assignee') }),
    select,
    box,
    h('button', { type: 'submit', class: 'secondary', text: t('followups.replan_save') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const json = {};
    // Only what she changed: the same minute typed back is no new time.
    if (form.due_at.value !== wallTime(fu.due_at)) json.due_at = new Date(form.due_at.value).toISOString();
    if (form.assignee_id.value !== fu.assignee_id) json.assignee_id = form.assignee_id.value;
    if (!Object.keys(json).length) { say(t('followups.replan_same')); return; }
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try {
      const saved = await api(`/follow-ups/${fu.id}`, { method: 'PATCH', json, headers: { 'If-Match': `"${fu.version}"` } });
      const name = choices.find(([id]) => id === saved.assignee_id)?.[1] || owner;
      say(t('followups.replanned', { what: fu.description, when: fmt(saved.due_at), who: name }));
      await after();
    } catch (err) {
      if (!(err instanceof ApiError)) { say(t('error.offline'), 'error'); return; }
      if ([409, 412].includes(err.status)) {
        // Changed meanwhile (ended, or moved on another device): said, and shown as it stands.
        say(err.message, 'error');
        await after();
        return;
      }
      showProblem(form, err, box, { beside: true })?.focus();
    } finally { button.disabled = false; }
  });
  return h('details', { class: 'fu-replan' }, h('summary', { text: t('followups.replan') }), form);
}
