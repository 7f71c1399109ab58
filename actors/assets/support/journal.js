// The journal: every input the render's object handled, oldest first (newest at the bottom, like
// a log), starting from the latest 100, with "Load earlier" pages. It follows the render live by
// asking for journal?after=<last seq> every 2 s; filters and open rows survive every update.

import { get, renderPath, query, ApiError } from './api.js';
import { h, put } from './dom.js';
import { clock, when, usd, bytes } from './format.js';

const PAGE = 100;

/** The input's kind: its `type`, else its first key (a few inputs are keyed by name) */
export function kindOf(input) {
  if (input && typeof input === 'object') return input.type || Object.keys(input)[0] || 'input';
  return typeof input === 'string' ? input : 'input';
}

/** A provider error: a string, {reason}, or serde's {"Transient": {"reason": ...}} */
function errText(e) {
  if (e == null) return '';
  if (typeof e === 'string') return e;
  if (e.reason || e.message) return e.reason || e.message;
  const [k, v] = Object.entries(e)[0] || [];
  return k ? `${k}${v && (v.reason || v.message) ? `: ${v.reason || v.message}` : ''}` : '';
}
const statusText = (st) => {
  if (!st) return '';
  if (typeof st === 'string') return st;
  const outs = (st.outputs || []).length;
  return `${st.status || Object.keys(st)[0]}${outs ? ` (${outs} output${outs > 1 ? 's' : ''})` : ''}${st.reason ? `: ${st.reason}` : ''}`;
};

/** One line about an input, for people */
export function summarize(input) {
  const i = input && typeof input === 'object' ? input : {};
  const on = i.stage ? `${i.stage}${i.attempt ? ` #${i.attempt}` : ''}: ` : '';
  switch (kindOf(input)) {
    case 'created': return `created by ${i.submitted_by || i.creator || '?'} for ${i.creator || '?'}: ${i.brief?.shots?.length ?? '?'} shots, budget ${usd(i.brief?.budget_usd)}${i.paid_tier ? ', paid tier' : ''}`;
    case 'fleet_health': return `fleet health of ${(i.models || []).length} models`;
    case 'memory_context': return `memory context: ${Object.entries(i.context || {}).filter(([, v]) => v && (!Array.isArray(v) || v.length) && (typeof v !== 'object' || Object.keys(v).length)).map(([k]) => k).join(', ') || 'empty'}`;
    case 'slot_granted': return `${on}slot granted on ${i.model}`;
    case 'slot_queued': return `${on}queued at the gate, ${i.ahead} ahead`;
    case 'slot_refused': return `${on}${i.model} refused${i.retired ? ' (retired)' : ''}: ${i.reason}`;
    case 'submit_accepted': return `${on}accepted as ${i.provider_ref}`;
    case 'submit_failed': return `${on}submit failed: ${errText(i.error)}`;
    case 'provider_update': return `${on}${statusText(i.status)}`;
    case 'callback': return `${on}callback from ${i.provider}: ${statusText(i.status)}`;
    case 'poll_failed': return `${on}poll failed: ${errText(i.error)}`;
    case 'artifact_stored': return `${on}stored ${i.content_type}, ${bytes(i.bytes)}`;
    case 'artifact_failed': return `${on}artifact not stored: ${i.reason}`;
    case 'look_up_missed': return `${on}lookup found no task${i.error ? `: ${errText(i.error)}` : ''}`;
    case 'reloaded': return 'object reloaded with submits in flight';
    case 'tick': return 'alarm';
    case 'cancel': return `cancelled by ${i.by}`;
    case 'support': {
      const a = i.action || {};
      return `${a.action || 'action'}${a.stage ? ` ${a.stage}` : ''}${a.model ? ` → ${a.model}` : ''} by ${i.by}: “${i.reason}”`;
    }
    case 'notify_result': return `notification ${i.notification} try ${i.attempt}: ${i.ok ? 'delivered' : `failed${i.error ? `: ${i.error}` : ''}`}`;
    case 'write_result': return `write ${i.write}: ${i.ok ? 'ok' : `failed${i.error ? `: ${i.error}` : ''}`}`;
    default: return on + Object.entries(i).filter(([k, v]) => !['type', 'stage', 'attempt'].includes(k) && v !== null && typeof v !== 'object').slice(0, 4).map(([k, v]) => `${k} ${v}`).join(', ');
  }
}

const actorText = (a) => (a ? [a.by, a.provider].filter(Boolean).join(' ') : '');

/**
 * The journal section. Returns {start(journalLength), poll(), stop()}. onNew() is called when
 * live polling brings new entries (the page then refreshes its view).
 */
export function createJournal(section, jobId, { onNew }) {
  const entries = new Map(); // seq -> {entry, row, hay}
  let first = null;
  let last = 0;
  let busy = false;
  let again = false; // a poll was asked for while one was running: run once more after it
  let stopped = false;
  const actor = h('select', { id: 'jf-actor', testid: 'journal-filter-actor' }, h('option', { value: '' }, 'Any'));
  const kind = h('select', { id: 'jf-kind', testid: 'journal-filter-kind' }, h('option', { value: '' }, 'Any'));
  const text = h('input', { id: 'jf-text', type: 'search', testid: 'journal-filter-text', placeholder: 'stage, model, words…' });
  const earlier = h('button', { type: 'button', testid: 'journal-earlier', hidden: true, onclick: loadEarlier }, 'Load earlier entries');
  const count = h('p', { class: 'muted' });
  const live = h('p', { class: 'muted live' });
  const tbody = h('tbody');
  const scroller = h('div', { class: 'j-scroll', tabindex: '0', role: 'region', 'aria-label': 'Journal entries' },
    h('table', { class: 'grid journal' },
      h('caption', { class: 'sr-only' }, 'Journal entries, oldest first'),
      h('thead', null, h('tr', null, ['Seq', 'Time', 'Actor', 'Input', 'What (expand for the raw input)'].map((c, i) => h('th', { scope: 'col', class: i === 0 ? 'num' : null }, c)))),
      tbody));
  put(section,
    h('div', { class: 'section-head' }, h('h2', { id: 'journal-h' }, 'Journal'), h('span', { class: 'muted' }, 'Oldest first; new entries appear at the bottom as they happen.'), live),
    h('div', { class: 'filters' },
      h('div', { class: 'field' }, h('label', { for: 'jf-actor' }, 'Actor'), actor),
      h('div', { class: 'field' }, h('label', { for: 'jf-kind' }, 'Input'), kind),
      h('div', { class: 'field grow' }, h('label', { for: 'jf-text' }, 'Contains'), text),
      count),
    earlier, scroller);

  const matches = (rec) => (!actor.value || rec.entry.actor?.kind === actor.value) && (!kind.value || rec.kind === kind.value) &&
    (!text.value.trim() || rec.hay.includes(text.value.trim().toLowerCase()));

  function applyFilters() {
    let shown = 0;
    for (const rec of entries.values()) {
      rec.row.hidden = !matches(rec);
      if (!rec.row.hidden) shown++;
    }
    count.textContent = `${shown} of ${entries.size} loaded${first > 1 ? ` (entries 1–${first - 1} not loaded)` : ''}`;
    earlier.hidden = !(first > 1);
  }
  for (const el of [actor, kind]) el.addEventListener('change', applyFilters);
  text.addEventListener('input', applyFilters);

  /** Adds options for kinds not yet listed, keeping the user's choice */
  function addOption(select, value) {
    if (!value || [...select.options].some((o) => o.value === value)) return;
    const opts = [...select.options].slice(1).map((o) => o.value).concat(value).sort();
    const chosen = select.value;
    select.replaceChildren(h('option', { value: '' }, 'Any'), ...opts.map((v) => h('option', { value: v }, v.replace(/_/g, ' '))));
    select.value = chosen;
  }

  function row(e, k, line) {
    const raw = h('details', null, h('summary', null, line));
    // The raw JSON is built on first open: a `created` input carries the whole brief
    raw.addEventListener('toggle', () => {
      if (raw.open && raw.children.length === 1) raw.append(h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(e.input, null, 2)));
    }, { passive: true });
    return h('tr', { testid: 'journal-entry', 'data-seq': e.seq, 'data-kind': k, 'data-actor': e.actor?.kind || '' },
      h('td', { class: 'num' }, e.seq),
      h('td', { title: when(e.at) }, clock(e.at, true)),
      h('td', null, h('span', { class: `badge a-${e.actor?.kind}` }, e.actor?.kind || '?'), actorText(e.actor) ? h('span', { class: 'muted small' }, ` ${actorText(e.actor)}`) : ''),
      h('td', { class: 'mono' }, k),
      h('td', { class: 'what' }, raw));
  }

  /** Inserts entries in seq order; returns how many were new */
  function add(list) {
    const fresh = (list || []).filter((e) => typeof e.seq === 'number' && !entries.has(e.seq)).sort((a, b) => a.seq - b.seq);
    if (!fresh.length) return 0;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    const heightBefore = scroller.scrollHeight;
    const prepend = first !== null && fresh[0].seq < first;
    const frag = document.createDocumentFragment();
    for (const e of fresh) {
      const k = kindOf(e.input);
      const line = summarize(e.input);
      const rec = { entry: e, kind: k, row: row(e, k, line), hay: `${e.seq} ${k} ${line} ${e.actor?.kind} ${actorText(e.actor)} ${JSON.stringify(e.input)}`.toLowerCase() };
      entries.set(e.seq, rec);
      rec.row.hidden = !matches(rec);
      frag.append(rec.row);
      addOption(actor, e.actor?.kind);
      addOption(kind, k);
    }
    if (prepend) tbody.prepend(frag);
    else tbody.append(frag);
    first = Math.min(first ?? Infinity, fresh[0].seq);
    last = Math.max(last, fresh.at(-1).seq);
    // Keep the reader where they were: follow the bottom if they were there, and keep the
    // same rows in sight when earlier ones are inserted above
    if (prepend) scroller.scrollTop += scroller.scrollHeight - heightBefore;
    else if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    applyFilters();
    return fresh.length;
  }

  async function page(after, limit) {
    return get(renderPath(jobId, `/journal${query({ after, limit })}`));
  }

  /** Fetches everything after the last seq (a few pages at most per call) */
  async function poll() {
    if (stopped) return 0;
    if (busy) {
      again = true;
      return 0;
    }
    busy = true;
    let added = 0;
    try {
      for (let i = 0; i < 10; i++) {
        const p = await page(last, PAGE);
        if (stopped) return added;
        added += add(p.entries);
        if (p.next_after == null || !(p.entries || []).length) break;
      }
      live.textContent = `Live · checked ${clock(Date.now())}`;
    } catch (e) {
      if (!stopped) live.textContent = `Live updates failing: ${e instanceof ApiError ? e.text : e.message}`;
    } finally {
      busy = false;
      if (again && !stopped) {
        again = false;
        setTimeout(async () => { if (await poll()) onNew?.(); });
      }
    }
    return added;
  }

  async function loadEarlier() {
    if (!(first > 1) || earlier.disabled) return;
    earlier.disabled = true;
    try {
      const after = Math.max(0, first - 1 - PAGE);
      add((await page(after, first - 1 - after)).entries?.filter((e) => e.seq < first));
    } catch (e) {
      live.textContent = `Could not load earlier entries: ${e instanceof ApiError ? e.text : e.message}`;
    } finally {
      earlier.disabled = false;
    }
  }

  const timer = setInterval(async () => {
    if (document.hidden) return;
    if (await poll()) onNew?.();
  }, 2000);

  return {
    /** Starts with the latest page: seqs run 1..journal_length */
    async start(length) {
      last = Math.max(0, (length || 0) - PAGE);
      if (!last) first = null;
      await poll();
      scroller.scrollTop = scroller.scrollHeight;
    },
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
