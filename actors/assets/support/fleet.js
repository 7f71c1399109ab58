// The fleet (#/fleet): every provider account's gate (limits, slots in use and by whom, who is
// waiting, 429s), every model's health and breaker, and the model registry's versions. Refreshed
// every 5 s while open.

import { get, ApiError } from './api.js';
import { h, put, table, sig } from './dom.js';
import { dur, pct, whenAgo, ago, when, num, usd } from './format.js';

const breakerState = (b) => (b ? b.state || Object.keys(b)[0] || '?' : '—');

function breaker(b) {
  const state = breakerState(b);
  return h('span', null, h('span', { class: `badge br-${state}` }, state.replace(/_/g, ' ')),
    b?.until ? ` until ${when(b.until)}` : '', b?.trip ? h('span', { class: 'muted' }, ` ${typeof b.trip === 'string' ? b.trip : b.trip.reason || JSON.stringify(b.trip)}`) : '');
}

function gateState(g) {
  if (g.paused) return h('span', { class: 'badge b-paused' }, `paused${g.paused_until ? ` until ${when(g.paused_until)}` : ''}`);
  if (g.effective_limit < g.limits?.max_concurrent) return h('span', { class: 'badge b-backing_off' }, 'backing off');
  return h('span', { class: 'badge b-done' }, 'ok');
}

function providersTable(list) {
  return table({
    testid: 'fleet-providers',
    cols: ['Provider', 'State', '#In use', '#Limit', '#Max', '#Per min', '#Burst', '#Tokens', '#Waiting', 'Waiting by creator', '#429s recent', '#429s total', 'Last 429', '#Leases expired', '#Waiters dropped'],
    rows: list.map(({ provider, gate: g = {}, models = [], retired = {} }) => h('tr', { testid: 'fleet-provider', 'data-provider': provider },
      h('th', { scope: 'row' }, provider, models.some((m) => breakerState(m.breaker) !== 'closed') ? h('span', { class: 'tag bad' }, 'breaker') : '',
        Object.keys(retired).length ? h('span', { class: 'muted small' }, ` retired: ${Object.keys(retired).join(', ')}`) : ''),
      h('td', null, gateState(g)),
      ...[(g.slots || []).length, g.effective_limit, g.limits?.max_concurrent, g.limits?.requests_per_minute, g.limits?.burst, g.tokens, g.waiting].map((n) => h('td', { class: 'num' }, num(n, 0))),
      h('td', null, (g.waiting_by_creator || []).map((w) => `${w.creator} ${w.waiting}`).join(', ') || '—'),
      h('td', { class: 'num' }, num(g.rate_limited_recent, 0)),
      h('td', { class: 'num' }, num(g.rate_limited_total, 0)),
      h('td', null, g.last_rate_limited_at ? ago(g.last_rate_limited_at) : '—'),
      h('td', { class: 'num' }, num(g.leases_expired_total, 0)),
      h('td', { class: 'num' }, num(g.waiters_dropped_total, 0)))),
  });
}

function slotsTable(list) {
  const slots = list.flatMap((p) => (p.gate?.slots || []).map((l) => ({ provider: p.provider, ...l })));
  if (!slots.length) return h('p', { class: 'muted' }, 'No slot in use.');
  return table({
    cols: ['Provider', 'Model', 'Creator', 'Render', 'Stage', '#Attempt', 'Granted', 'Expires'],
    rows: slots.map((l) => [l.provider, l.model, l.creator, l.key?.job ? h('a', { href: `#/renders/${encodeURIComponent(l.key.job)}?stage=${encodeURIComponent(l.key.stage || '')}`, class: 'mono' }, l.key.job) : '—',
      l.key?.stage || '—', l.key?.attempt ?? '—', ago(l.granted_at), when(l.expires_at)]),
  });
}

function modelsTable(list) {
  const rows = list.flatMap((p) => (p.models || []).map((m) => ({ provider: p.provider, ...m })));
  if (!rows.length) return h('p', { class: 'muted' }, 'No model health recorded yet.');
  return table({
    testid: 'fleet-models',
    cols: ['Model', 'Provider', 'Breaker', '#Consecutive failures', '#Attempts', '#Succeeded', '#Failed', '#Permanent', '#Failure rate', '#429 rate', '#p50', '#p95', 'Wakes'],
    rows: rows.map((m) => {
      const f = m.figures || {};
      return h('tr', { testid: 'fleet-model', 'data-model': m.model },
        h('th', { scope: 'row' }, m.model), h('td', null, m.provider), h('td', null, breaker(m.breaker)),
        ...[m.consecutive_failures, f.attempts, f.succeeded, f.failed, f.failed_permanent].map((n) => h('td', { class: 'num' }, num(n, 0))),
        h('td', { class: 'num' }, pct(f.failure_rate)), h('td', { class: 'num' }, pct(f.rate_limit_rate)),
        h('td', { class: 'num' }, dur(f.latency_p50)), h('td', { class: 'num' }, dur(f.latency_p95)),
        h('td', null, m.wakes_at ? whenAgo(m.wakes_at) : '—'));
    }),
  });
}

function registry(reg) {
  if (!reg) return h('p', { class: 'muted' }, 'The registry is not available.');
  const versions = reg.versions || [];
  return h('div', { testid: 'registry' },
    h('p', null, `Latest version: ${reg.latest ?? '—'} · ${(reg.models || []).length} models.`),
    versions.map((v) => h('details', { class: 'version', open: v.version === reg.latest, 'data-v': `v${v.version}` },
      h('summary', null, `Version ${v.version}`, h('span', { class: 'muted' }, ` · ${whenAgo(v.published_at)} by ${v.published_by || '?'}${v.note ? ` · ${v.note}` : ''}`)),
      h('ul', { class: 'chips' }, (v.changes || []).map((c) => h('li', { class: `chip ch-${c.change}` }, `${c.change} ${c.model}${c.detail ? ` (${c.detail})` : ''}`))))),
    (reg.models || []).length ? h('details', { 'data-v': 'models' }, h('summary', null, 'Models of the latest version'),
      h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Registry models' }, table({
        cols: ['Model', 'Provider', 'Capability', 'Price', '#Concurrency', '#Quality', '#p50', '#p95', 'Aspects', 'Notes'],
        rows: reg.models.map((m) => [m.id, m.provider, m.capability, m.pricing ? `${usd(m.pricing.usd)} ${(m.pricing.unit || '').replace(/_/g, ' ')}` : '—', m.concurrency, num(m.default_quality),
          dur(m.latency_p50_ms), dur(m.latency_p95_ms), (m.aspects || []).join(' '),
          [m.retired_from ? `retired ${when(m.retired_from)}` : '', m.flag ? `flag ${m.flag.name} ${m.flag.rollout_percent} %` : ''].filter(Boolean).join('; ')]),
      }))) : null);
}

/** Re-renders while keeping the horizontal and vertical scroll of its scroll boxes */
function keepScroll(container, render) {
  const pos = [...container.querySelectorAll('.scroll')].map((el) => [el.scrollLeft, el.scrollTop]);
  render();
  [...container.querySelectorAll('.scroll')].forEach((el, i) => {
    if (pos[i]) [el.scrollLeft, el.scrollTop] = pos[i];
  });
}

export function mountFleet(main) {
  let alive = true;
  let regSig = null;
  const stamp = h('p', { class: 'muted', testid: 'fleet-updated' });
  const gates = h('div');
  const reg = h('div');
  put(main, h('div', { class: 'fleet', testid: 'fleet' },
    h('h1', { tabindex: '-1' }, 'Fleet'), stamp,
    h('section', { class: 'card', 'aria-labelledby': 'fl-h' }, h('h2', { id: 'fl-h' }, 'Providers'), gates),
    h('section', { class: 'card', 'aria-labelledby': 'rg-h' }, h('h2', { id: 'rg-h' }, 'Model registry'), reg)));

  async function load() {
    const [p, r] = await Promise.allSettled([get('/v1/support/providers'), get('/v1/support/registry')]);
    if (!alive) return;
    if (p.status === 'fulfilled') {
      const list = p.value?.providers || [];
      keepScroll(gates, () => put(gates, h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Provider accounts table' }, providersTable(list)),
        h('h3', null, 'Slots in use'), slotsTable(list),
        h('h3', null, 'Model health'), h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Model health table' }, modelsTable(list))));
    } else put(gates, h('p', { class: 'note bad' }, `Could not load the providers: ${p.reason instanceof ApiError ? p.reason.text : p.reason?.message}`));
    // The registry changes rarely: redraw only when it did, keeping open <details> as left
    const value = r.status === 'fulfilled' ? r.value : null;
    if (sig(value) !== regSig) {
      const open = regSig === null ? null : new Set([...reg.querySelectorAll('details[open]')].map((d) => d.dataset.v));
      regSig = sig(value);
      put(reg, registry(value));
      if (open) for (const d of reg.querySelectorAll('details')) d.open = open.has(d.dataset.v);
    }
    stamp.textContent = `Updated ${when(Date.now())}; refreshes every 5 s.`;
  }

  load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, 5000);
  return {
    unmount() {
      alive = false;
      clearInterval(timer);
    },
  };
}
