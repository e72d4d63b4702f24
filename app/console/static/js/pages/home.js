import { homeOf, navigate, session } from '../core.js';

export default function home() {
  const target = homeOf(session.me);
  history.replaceState({}, '', target);
  navigate(target, { replace: true }); // '/' stands for her first page: Back skips it
}
