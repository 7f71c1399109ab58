// Find a render (#/): filters, a results table newest first, "Older" pages. The filters live in
// the hash (#/?creator=demo&status=failed) so the back button from a render returns to the same
// results, and a filtered list can be shared.

import { get, query, ApiError } from './api.js';
import { h, put, table, badge } from './dom.js';
import { usd, when, ago, localInputToMs, msToLocalInput } from './format.js';

const STATUSES = ['queued', 'planning', 'rendering', 'assembling', 'paused', 'succeeded', 'failed', 'cancelled'];
// The names the search route accepts (the server's provider kinds; note fal and elevenlabs,
// which the fleet view calls fal_pika and eleven_labs)
const PROVIDERS = ['veo', 'sora', 'kling', 'runway', 'fal', 'luma', 'seedance', 'hailuo', 'bfl', 'elevenlabs', 'minimax_music', 'replicate', 'assembler', 'shotstack'];
const FIELDS = ['creator', 'status', 'provider', 'since', 'until'];

function field(id, label, control) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

function select(testid, options) {
  return h('select', { testid, name: testid }, h('option', { value: '' }, 'Any'), options.map((o) => h('option', { value: o }, o.replace(/_/g, ' '))));
}

export function mountSearch(main, { query: initial }) {
  let alive = true;
  let cursor = null;
  let rows = [];
  const job = h('input', { type: 'search', testid: 'search-job', placeholder: 'rnd_…', autocomplete: 'off', spellcheck: 'false' });
  const creator = h('input', { type: 'search', testid: 'search-creator', autocomplete: 'off', spellcheck: 'false' });
  const status = select('search-status', STATUSES);
  const provider = select('search-provider', PROVIDERS);
  const since = h('input', { type: 'datetime-local', testid: 'search-since' });
  const until = h('input', { type: 'datetime-local', testid: 'search-until' });
  const message = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite', testid: 'search-message' });
  const results = h('div', { class: 'results' });
  const more = h('button', { type: 'button', testid: 'search-more', hidden: true, onclick: () => run(true) }, 'Older');
  const form = h('form', { class: 'card search', testid: 'search-form', role: 'search', 'aria-label': 'Find renders' },
    field('s-job', 'Job id', job),
    field('s-creator', 'Creator', creator),
    field('s-status', 'Status', status),
    field('s-provider', 'Provider', provider),
    field('s-since', 'Created from', since),
    field('s-until', 'Created before', until),
    h('div', { class: 'field actions-row' },
      h('button', { type: 'submit', class: 'primary', testid: 'search-submit' }, 'Search'),
      h('button', { type: 'reset' }, 'Clear')));

  put(main, h('h1', { tabindex: '-1' }, 'Find a render'), form, message, results, h('p', null, more));

  /** Fills the form from the hash's query */
  function fill(q) {
    creator.value = q.get('creator') || '';
    status.value = STATUSES.includes(q.get('status')) ? q.get('status') : '';
    provider.value = PROVIDERS.includes(q.get('provider')) ? q.get('provider') : '';
    since.value = q.get('since') ? msToLocalInput(Number(q.get('since'))) : '';
    until.value = q.get('until') ? msToLocalInput(Number(q.get('until'))) : '';
  }

  /** The API's filters from the form */
  function filters() {
    return {
      creator: creator.value.trim(),
      status: status.value,
      provider: provider.value,
      since: localInputToMs(since.value),
      until: localInputToMs(until.value),
    };
  }

  function row(r) {
    return h('tr', { testid: 'render-row', 'data-job': r.job_id },
      h('td', null, h('a', { href: `#/renders/${encodeURIComponent(r.job_id)}`, class: 'mono' }, r.job_id)),
      h('td', null, badge(r.status)),
      h('td', null, r.creator_id),
      h('td', null, r.project_id),
      h('td', { class: 'num' }, usd(r.total_usd)),
      h('td', null, when(r.created_at), h('span', { class: 'muted' }, ` · ${ago(r.created_at)}`)),
      h('td', null, ago(r.updated_at)));
  }

  function show() {
    if (!rows.length) {
      put(results);
      return;
    }
    put(results, table({
      caption: 'Renders, newest first',
      cols: ['Job', 'Status', 'Creator', 'Project', '#Cost', 'Created', 'Updated'],
      rows: rows.map(row),
      testid: 'search-results',
    }));
  }

  async function run(older = false) {
    const f = filters();
    if (f.since !== null && f.until !== null && f.since >= f.until) {
      message.textContent = '"Created from" must be before "Created before".';
      return;
    }
    message.textContent = older ? 'Loading older renders…' : 'Searching…';
    more.disabled = true;
    try {
      const page = await get(`/v1/support/renders${query({ ...f, limit: 50, cursor: older ? cursor : null })}`);
      if (!alive) return;
      rows = older ? rows.concat(page.renders || []) : page.renders || [];
      cursor = page.next_cursor || null;
      show();
      message.textContent = rows.length ? `${rows.length} render${rows.length === 1 ? '' : 's'}${cursor ? ', more are older' : ''}.` : 'No render matches these filters.';
    } catch (e) {
      if (!alive) return;
      message.textContent = `Search failed: ${e instanceof ApiError ? e.text : e.message}`;
    }
    more.hidden = !cursor;
    more.disabled = false;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // A job id (in either text field) opens that render directly
    const id = [job.value, creator.value].map((v) => v.trim()).find((v) => v.startsWith('rnd_'));
    if (id) {
      location.hash = `#/renders/${encodeURIComponent(id)}`;
      return;
    }
    const f = filters();
    const q = new URLSearchParams();
    for (const k of FIELDS) if (f[k] !== null && f[k] !== '') q.set(k, f[k]);
    history.replaceState(null, '', `#/${q.toString() ? `?${q}` : ''}`);
    run();
  });
  form.addEventListener('reset', () => setTimeout(() => {
    history.replaceState(null, '', '#/');
    run();
  }));

  fill(initial);
  run();
  return {
    update(q) {
      fill(q);
      run();
    },
    unmount() {
      alive = false;
    },
  };
}
