// A render's page (#/renders/{id}[?stage=...]): header band, timeline, stage graph and details,
// outputs, memory, costs and the live journal. It polls while open: the journal every 2 s, the
// view and timeline every 5 s while the render is not ended (or when the journal moved), and
// redraws only the sections whose data changed, so open panels, focus, filters, scroll and
// playing media are left alone.

import { get, renderPath, ApiError } from './api.js';
import { h, put, dl, badge, keepFocus, sig } from './dom.js';
import { usd, dur, whenAgo, clock, when, isActive } from './format.js';
import { isAdmin } from './session.js';
import { timelineNodes } from './timeline.js';
import { dagSvg } from './dag.js';
import { stageDetails } from './stage.js';
import { artifacts, memory, costs } from './panels.js';
import { createJournal } from './journal.js';
import { openActionDialog, jobActions } from './actions.js';

const text = (x) => (x == null ? '' : typeof x === 'string' ? x : x.text || x.message || x.reason || JSON.stringify(x));
const card = (testid, title, hid, ...body) => h('section', { class: 'card', testid, 'aria-labelledby': hid }, h('h2', { id: hid }, title), ...body);

/** Ra's notes, the failure and the warnings: the first thing support reads */
function notes(v) {
  const said = v.said || [];
  const list = v.notes || [];
  const warn = v.warnings || [];
  if (!v.failure && !said.length && !list.length && !warn.length) return h('p', { class: 'muted' }, 'Ra left no notes, warnings or failure on this render.');
  return h('div', { class: 'notes' },
    v.failure && h('p', { class: 'note bad', testid: 'render-failure' }, h('strong', null, 'Failure: '), text(v.failure)),
    warn.map((w) => h('p', { class: 'note warn' }, h('strong', null, 'Warning: '), text(w))),
    said.map((s) => h('blockquote', { class: 'said' }, h('span', { class: 'who-said' }, 'Ra to the Director: '), text(s))),
    list.length ? h('ul', null, list.map((n) => h('li', null, text(n)))) : null);
}

/** Stages that are neither done nor waiting for inputs: where a stuck render is stuck */
function inProgress(v, onSelect) {
  const now = (v.stages || []).filter((st) => !['done', 'blocked'].includes(st.status));
  if (!now.length) return null;
  return h('div', { class: 'now' }, h('h2', null, 'Needs a look'),
    h('ul', null, now.map((st) => {
      const a = (st.attempts || []).at(-1);
      return h('li', null, h('button', { type: 'button', class: 'link mono', onclick: () => onSelect(st.id) }, st.id), ' ', badge(st.status),
        st.model ? ` ${st.model}` : '', a && !a.ended_at ? ` · attempt ${a.attempt} for ${dur(Date.now() - a.started_at)}` : '',
        st.waiting ? ` · ${st.waiting}` : '', st.error ? ` · ${text(st.error)}` : '');
    })));
}

function header(v, onSelect) {
  const last = (v.history || []).at(-1);
  const ended = !isActive(v.status);
  const p = v.progress;
  return [
    h('div', { class: 'title-row' }, badge(v.status, 'render-status'),
      p ? h('span', { class: 'muted' }, `${p.done}/${p.total} stages done${p.running ? `, ${p.running} running` : ''}${p.failed ? `, ${p.failed} failed` : ''}`) : ''),
    dl([
      ['Creator', h('span', null, h('a', { href: `#/?creator=${encodeURIComponent(v.creator || '')}`, 'data-key': 'creator', title: 'All renders of this creator' }, v.creator || '—'), ' · ', h('span', { class: `tag ${v.paid_tier ? 'paid' : ''}` }, v.paid_tier ? 'paid' : 'free'))],
      ['Project', v.project_id],
      ['Budget', usd(v.budget_usd)],
      ['Committed', usd(v.committed_usd)],
      ['Spent', usd(v.cost_usd)],
      ['Created', whenAgo(v.created_at)],
      ['Elapsed', `${dur(((ended && last ? last.at : Date.now()) - v.created_at))}${ended ? '' : ' so far'}`],
      ['Submitted by', v.submitted_by],
      ['Registry', v.registry_version != null ? `version ${v.registry_version}` : null],
      ['Paused from', v.paused_from],
      ['Cancelled by', v.cancelled_by],
    ], 'kv band-kv'),
    h('ol', { class: 'history', 'aria-label': 'Status history' }, (v.history || []).map((x) => h('li', { title: when(x.at) }, h('span', null, x.status.replace(/_/g, ' ')), ' ', h('span', { class: 'muted' }, clock(x.at))))),
    h('div', { class: 'band-cols' },
      h('div', null, h('h2', null, 'Ra’s notes'), notes(v)),
      inProgress(v, onSelect)),
    (v.actions || []).length ? h('div', { class: 'support-log' }, h('h2', null, 'Support actions taken'),
      h('ul', null, v.actions.map((a) => h('li', null, h('span', { class: 'muted' }, `${when(a.at)} `), h('strong', null, a.action?.action || '?'),
        a.action?.stage ? ` ${a.action.stage}` : '', a.action?.model ? ` → ${a.action.model}` : '', ` by ${a.by}: “${a.reason}”`)))) : null,
    h('details', { class: 'internals' }, h('summary', null, 'Internals'),
      dl([['Journal entries', v.journal_length], ['Skipped steps', v.skipped_steps && Object.entries(v.skipped_steps).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', ')],
        ['Pending writes', (v.pending_writes || []).length], ['Notifications', (v.notifications || []).length], ['Next deadline', v.next_deadline ? whenAgo(v.next_deadline) : null]])),
  ];
}

export function mountRender(main, { id, query, announce }) {
  const admin = isAdmin();
  let alive = true;
  let view = null;
  let tl = null;
  let selected = query.get('stage') || null;
  let journalMoved = false;
  let busy = false;
  const drawn = {};

  const problem = h('p', { class: 'note bad', role: 'status', hidden: true });
  const band = h('div', { class: 'band-body' });
  const actionsBox = admin ? h('section', { class: 'card actions', testid: 'actions', 'aria-label': 'Render actions' }) : null;
  const timelineBox = h('div', { class: 'timeline', testid: 'timeline' }, h('p', { class: 'muted' }, 'Loading the timeline…'));
  const dagBox = h('div', { class: 'scroll dag-box' });
  const stageBox = h('section', { class: 'card stage-box', 'aria-label': 'Stage details' });
  const outBody = h('div');
  const memBody = h('div');
  const costBody = h('div');
  const journalBox = h('section', { class: 'card', testid: 'journal', 'aria-labelledby': 'journal-h' });
  put(main, h('div', { class: 'render-page', testid: 'render-page' },
    h('section', { class: 'band', testid: 'render-header', 'aria-labelledby': 'render-h' },
      h('h1', { id: 'render-h', tabindex: '-1' }, 'Render ', h('span', { class: 'mono' }, id)), problem, band),
    actionsBox,
    card(null, 'Timeline', 'tl-h', timelineBox),
    h('div', { class: 'cols' },
      h('div', { class: 'col' }, card(null, 'Stage graph', 'dag-h', dagBox), stageBox),
      h('div', { class: 'col' }, card('artifacts', 'Outputs', 'art-h', outBody), card('memory', 'Memory', 'mem-h', memBody), card(null, 'Costs', 'cost-h', costBody))),
    journalBox));
  band.append(h('p', { class: 'muted' }, 'Loading…'));

  /** Redraws a section only when its data changed */
  function draw(name, el, value, make) {
    const s = sig(value);
    if (drawn[name] === s) return;
    drawn[name] = s;
    keepFocus(el, () => put(el, make()));
  }

  const stageOf = (sid) => (view?.stages || []).find((st) => st.id === sid);

  function drawStage() {
    const st = stageOf(selected);
    if (!st) {
      drawn.stage = null;
      put(stageBox, h('h2', null, 'Stage details'), h('p', { class: 'muted' }, 'Choose a stage in the timeline or the graph to see its attempts, Ra’s routing decision, shaping and artifacts.'));
      return;
    }
    const crit = (tl?.critical_path || []).includes(st.id);
    const s = sig([st, crit, admin]);
    if (drawn.stage === s) return;
    drawn.stage = s;
    const model = stageBox.querySelector('#reroute-model')?.value;
    keepFocus(stageBox, () => put(stageBox, h('div', { testid: 'stage-details', 'data-stage': st.id },
      stageDetails(st, { admin, critical: crit, onAction: act, onSelect: select, onClose: () => select(null) }))));
    const sel = stageBox.querySelector('#reroute-model');
    if (sel && model && [...sel.options].some((o) => o.value === model)) sel.value = model;
  }

  function drawGraphs() {
    if (!view) return;
    const crit = tl?.critical_path || [];
    if (tl) {
      // Plan order, as the support view lists the stages
      const index = new Map((view.stages || []).map((x, i) => [x.id, i]));
      tl.stages = [...(tl.stages || [])].sort((a, b) => (index.get(a.id) ?? 1e9) - (index.get(b.id) ?? 1e9));
      const statusOf = (sid) => stageOf(sid)?.status;
      draw('timeline', timelineBox, [tl, selected, (view.stages || []).map((x) => x.status)], () => timelineNodes(tl, { selected, onSelect: select, statusOf }));
    }
    draw('dag', dagBox, [(view.stages || []).map((x) => [x.id, x.status, x.model, x.waiting]), view.edges, crit, selected], () => dagSvg(view, { selected, critical: crit, onSelect: select }));
  }

  /** Opens a stage (null closes the panel); the hash keeps it for reloads and links */
  function select(sid) {
    selected = sid && stageOf(sid) ? sid : null;
    history.replaceState(null, '', `#/renders/${encodeURIComponent(id)}${selected ? `?stage=${encodeURIComponent(selected)}` : ''}`);
    drawGraphs();
    drawStage();
    if (selected) {
      const title = stageBox.querySelector('#stage-title');
      title?.focus({ preventScroll: true });
      stageBox.scrollIntoView({ block: 'nearest' });
    }
  }

  function apply(v) {
    view = v;
    keepFocus(band, () => put(band, header(v, select)));
    if (actionsBox && !actionsBox.firstChild) put(actionsBox, jobActions(v, (action) => act(action)));
    drawGraphs();
    drawStage();
    draw('out', outBody, [v.master_key, v.poster_key, v.captions_key, (v.variants || []).map((x) => x.key || x.aspect), v.status === 'succeeded'], () => artifacts(v));
    draw('mem', memBody, [v.memory_context_used, (v.stages || []).map((x) => x.shaping?.shaped_by)], () => memory(v, select));
    draw('cost', costBody, [v.cost_ledger, v.cost_usd, v.committed_usd, v.budget_usd], () => costs(v));
  }

  /** The server's timeline (a failed fetch keeps the last one drawn) */
  async function loadTimeline() {
    let fresh = null;
    try {
      fresh = await get(renderPath(id, '/timeline'));
    } catch (e) {
      showProblem(e, 'the timeline');
    }
    if (!alive || !view) return;
    tl = fresh || tl;
    drawGraphs();
    drawStage();
  }

  function showProblem(e, what = 'the render') {
    problem.hidden = !e;
    problem.textContent = e ? `Could not refresh ${what}: ${e instanceof ApiError ? e.text : e.message}` : '';
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const v = await get(renderPath(id));
      if (!alive) return;
      showProblem(null);
      apply(v);
      await loadTimeline();
    } catch (e) {
      if (alive) showProblem(e);
    } finally {
      busy = false;
    }
  }

  function act(action, stage, model) {
    if (!view) return;
    openActionDialog(view, { action, stage, model }, (updated, message) => {
      announce(message);
      if (updated && updated.job_id) apply(updated);
      // The action changed the render: the timeline and the journal show it at once
      loadTimeline();
      journal?.poll();
      if (!updated || !updated.job_id) refresh();
    });
  }

  let journal = null;
  async function start() {
    try {
      view = await get(renderPath(id));
    } catch (e) {
      if (!alive) return;
      put(band, h('p', { class: 'note bad' }, e.status === 404 ? `No render ${id}.` : `Could not load the render: ${e instanceof ApiError ? e.text : e.message}`), h('p', null, h('a', { href: '#/' }, 'Back to search')));
      return;
    }
    if (!alive) return;
    apply(view);
    journal = createJournal(journalBox, id, { onNew: () => { journalMoved = true; } });
    journal.start(view.journal_length);
    loadTimeline();
  }

  const timer = setInterval(() => {
    if (!alive || !view || document.hidden) return;
    if (isActive(view.status) || journalMoved) {
      journalMoved = false;
      refresh();
    }
  }, 5000);

  start();
  return {
    update(q) {
      const sid = q.get('stage');
      if (sid !== selected) select(sid);
    },
    unmount() {
      alive = false;
      clearInterval(timer);
      journal?.stop();
    },
  };
}
