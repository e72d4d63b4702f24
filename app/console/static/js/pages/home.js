import { navigate, session } from '../core.js';

// Each role's first page.
const HOME = {
  clinician: '/cases', interpreter: '/cases', specialist: '/inbox',
  coordinator: '/queue', admin: '/admin/users',
};

export default function home() {
  const target = HOME[session.me?.role] || '/profile';
  history.replaceState({}, '', target);
  navigate(target);
}
