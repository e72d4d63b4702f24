// A follow-up's link (as a reminder carries it): the follow-up lives on its case's page.
import { api, navigate } from '../core.js';

export default async function followup(main, { follow_up_id: id }) {
  const fu = await api(`/follow-ups/${encodeURIComponent(id)}`);
  history.replaceState({}, '', `/cases/${fu.case_id}`);
  navigate(`/cases/${fu.case_id}`);
}
