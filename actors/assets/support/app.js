// Start-up, the header and the hash router: #/ (search), #/renders/{id}, #/fleet, and the
// sign-in screen whenever there is no session. Each screen is a module whose mount() returns
// {unmount(), key?, update?(query)}; unmount stops that screen's polling.

import { onAuthLost, get } from './api.js';
import { h, put } from './dom.js';
import { session, loadSession, signOut, signInView, dropSession } from './session.js';
import { mountSearch } from './search.js';
import { mountRender } from './render.js';
import { mountFleet } from './fleet.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const status = document.getElementById('status');
let view = null;
let fleetShown = true;

/** Polite announcement in the shared live region */
export function announce(text) {
  if (status.textContent === text) {
    // The same message again: clear first so screen readers announce it again
    status.textContent = '';
    setTimeout(() => { status.textContent = text; }, 50);
  } else status.textContent = text;
  clearTimeout(announce.t);
  announce.t = setTimeout(() => { status.textContent = ''; }, 10000);
}

/** Parses location.hash into a path and query: "#/renders/x?stage=y" */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, q = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/', query: new URLSearchParams(q) };
}

function stopView() {
  if (view) view.unmount();
  view = null;
  document.querySelectorAll('dialog').forEach((d) => d.remove());
}

function renderHeader() {
  const s = session();
  nav.hidden = !s;
  who.replaceChildren();
  if (!s) return;
  const { path } = parseHash();
  for (const a of nav.querySelectorAll('a')) {
    const target = a.getAttribute('href').slice(1);
    const here = target === '/fleet' ? path === '/fleet' : path !== '/fleet';
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  nav.querySelector('[data-testid="nav-fleet"]').parentElement.hidden = !fleetShown;
  put(who,
    h('span', { class: 'who', testid: 'whoami' }, s.key_label || 'support', ' · ', h('span', { class: `role r-${s.role}` }, s.role === 'support_admin' ? 'support admin' : 'support (read-only)')),
    h('button', { type: 'button', testid: 'signout', onclick: onSignOut }, 'Sign out'));
}

async function onSignOut() {
  stopView();
  try {
    await signOut();
  } catch {
    // The cookie may already be gone; signed out locally either way
  }
  announce('Signed out.');
  route();
}

/** Whether the fleet routes exist: a 404 hides the Fleet link, other answers keep it */
async function probeFleet() {
  try {
    await get('/v1/support/providers');
    fleetShown = true;
  } catch (e) {
    fleetShown = e.status !== 404;
  }
  renderHeader();
}

function route(focus = false) {
  const s = session();
  renderHeader();
  if (!s) {
    stopView();
    view = signInView(main, { onSignedIn, notice: route.notice });
    route.notice = '';
    return;
  }
  const { path, query } = parseHash();
  const m = path.match(/^\/renders\/([^/]+)$/);
  const key = m ? `render:${decodeURIComponent(m[1])}` : path === '/fleet' ? 'fleet' : path === '/' ? 'search' : 'missing';
  if (view && view.key === key && view.update) {
    view.update(query);
    return;
  }
  stopView();
  if (key === 'search') view = mountSearch(main, { query });
  else if (key === 'fleet' && fleetShown) view = mountFleet(main, { announce });
  else if (m) view = mountRender(main, { id: decodeURIComponent(m[1]), query, announce });
  else {
    put(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'Nothing here. ', h('a', { href: '#/' }, 'Find a render')));
    view = { unmount() {} };
  }
  view.key = key;
  // Move focus to the new screen's heading so keyboard and screen-reader users land on it
  if (focus) main.querySelector('h1')?.focus({ preventScroll: false });
}

function onSignedIn() {
  announce(`Signed in as ${session().key_label || 'support'}.`);
  probeFleet();
  route(true);
}

onAuthLost(() => {
  if (!session()) return;
  dropSession();
  route.notice = 'Your session ended. Sign in again.';
  route();
});

window.addEventListener('hashchange', () => route(true));

async function start() {
  try {
    await loadSession();
  } catch (e) {
    route.notice = `Could not check the session: ${e.message}`;
  }
  route();
  if (session()) probeFleet();
}

start();
