// The support session: a cookie the page cannot read, plus the role, key label and CSRF token
// kept in memory only. The key itself is sent once and never stored anywhere.

import { get, post, del, setCsrf, ApiError } from './api.js';
import { h } from './dom.js';

const PATH = '/v1/support/session';
let current = null;

export const session = () => current;
export const isAdmin = () => current?.role === 'support_admin';

function set(s) {
  current = s || null;
  setCsrf(current?.csrf_token);
}

/** The session behind the cookie, or null when there is none (401) */
export async function loadSession() {
  try {
    set(await get(PATH, { auth: false }));
  } catch (e) {
    if (e.status !== 401) throw e;
    set(null);
  }
  return current;
}

/** Forgets the session locally (after a 401 anywhere) */
export const dropSession = () => set(null);

/** Signs out at the server; the local session is dropped whatever it answers */
export async function signOut() {
  try {
    await del(PATH, { auth: false });
  } finally {
    set(null);
  }
}

/**
 * The sign-in screen. The key is read from the field and the field is cleared before the
 * request goes out, so it stays nowhere in the page.
 */
export function signInView(main, { onSignedIn, notice }) {
  const key = h('input', { id: 'signin-key', type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true, testid: 'signin-key', 'aria-describedby': 'signin-help' });
  const error = h('p', { class: 'err', role: 'alert', testid: 'signin-error' }, notice || '');
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', testid: 'signin-form', novalidate: true },
    h('h1', { tabindex: '-1' }, 'Support sign-in'),
    h('label', { for: 'signin-key' }, 'Support key'),
    key,
    h('p', { id: 'signin-help', class: 'muted' }, 'Paste a support key (sk_…). It is exchanged for a session cookie and not kept by this page.'),
    error,
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = key.value.trim();
    key.value = '';
    if (!value) {
      error.textContent = 'Enter a support key.';
      key.focus();
      return;
    }
    error.textContent = '';
    submit.disabled = true;
    try {
      set(await post(PATH, { key: value }, { auth: false }));
      onSignedIn();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.text : String(e);
      submit.disabled = false;
      key.focus();
    }
  });
  main.replaceChildren(form);
  key.focus();
  return { unmount() {} };
}
