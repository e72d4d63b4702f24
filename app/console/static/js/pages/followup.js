// A follow-up's link (as a reminder carries it): the follow-up lives on its case's page.
// One this person may not see (or none) is "not found" (app.js), not "Loading…" beside it.
import { $, api, navigate } from '../core.js';

export default async function followup(main, { follow_up_id: id }) {
  let fu;
  try {
    fu = await api(`/follow-ups/${encodeURIComponent(id)}`);
  } catch (err) {
    $('#followup-msg', main).hidden = true;
    throw err; // said in its place by app.js: not found, or what went wrong
  }
  // At the follow-up itself (case_parts.js marks it, app.js brings it into view): on a
  // phone the case page is long, and a case may have several.
  const there = `/cases/${fu.case_id}#followup-${fu.id}`;
  history.replaceState({}, '', there);
  navigate(there, { replace: true });
}
