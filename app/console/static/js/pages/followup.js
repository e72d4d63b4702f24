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
  history.replaceState({}, '', `/cases/${fu.case_id}`);
  navigate(`/cases/${fu.case_id}`);
}
