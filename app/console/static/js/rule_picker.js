// A series' repetition, as the new series form on /rounds and the series form on
// /rounds/{id} choose it: one of the common repetitions of the start's weekday, or an
// RRULE typed by hand ("another rule"), said in words as it is chosen. The rule's text is
// shown only for "another rule": a common one is read in words, not as RRULE.
import { h, t } from './core.js';
import { commonRule, describeRule } from './rrule.js';

const KINDS = ['weekly', 'biweekly', 'monthly_nth', 'monthly_last', 'custom'];

// `form` has the fields starts_at_local and rrule; `repeat` is the <select> of the kinds,
// `says` where the rule is said, `zone()` the series' time zone (its UNTIL's day).
// A new start re-makes the chosen kind's rule; typing a rule makes it "another".
export function rulePicker(form, repeat, says, zone) {
  repeat.replaceChildren(...KINDS.map((k) => h('option', { value: k, text: t(`rounds.repeat_${k}`) })));
  const text = [form.rrule, form.querySelector(`label[for="${form.rrule.id}"]`)].filter(Boolean);
  const show = () => { for (const el of text) el.hidden = repeat.value !== 'custom'; };
  const tell = () => {
    says.textContent = `${t('rounds.rrule_says')} ${describeRule(form.rrule.value, zone())}`;
    show();
  };
  const preset = () => {
    const rule = commonRule(repeat.value, form.starts_at_local.value); // null: "custom"
    if (!rule) return;
    form.rrule.value = rule;
    tell();
  };
  repeat.addEventListener('change', () => { show(); preset(); });
  form.starts_at_local.addEventListener('input', preset);
  form.rrule.addEventListener('input', () => { repeat.value = 'custom'; tell(); });
  tell();
  return {
    tell,
    // Choose the kind the rule as filled in is (the server writes an nth weekday "+2TU").
    match() {
      const rule = form.rrule.value.replace(/([=,])\+/g, '$1');
      repeat.value = KINDS.find((k) => commonRule(k, form.starts_at_local.value) === rule) || 'custom';
      tell();
    },
  };
}
