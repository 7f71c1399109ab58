// The timeline: every stage a row on one time axis, each span a bar coloured by phase, failure
// markers, the critical path outlined. Rows keep plan order and are grouped by shot. The axis,
// ticks and grouping are pure functions. Phases and the critical path come from
// the server's timeline (`GET /v1/support/renders/{id}/timeline`), never recomputed here.

import { h } from './dom.js';
import { dur } from './format.js';

export const PHASES = {
  waiting_for_inputs: 'waiting for inputs',
  waiting_for_slot: 'waiting for a slot',
  submitted: 'submitted',
  running: 'running',
  storing: 'storing',
  backing_off: 'backing off',
};
const MARKERS = { failed: 'stage failed', attempt_failed: 'attempt failed', cancelled: 'cancelled', support: 'support action' };
const STEPS = [100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 144e5];

/** The tick step (ms) that gives at most `max` intervals over `span` ms */
export function tickStep(span, max = 10) {
  return STEPS.find((s) => span / s <= max) ?? Math.ceil(span / max / 36e5) * 36e5;
}

/** A tick label: seconds up to five minutes, whole minutes beyond (the steps are then minutes) */
export function tickLabel(ms, step, span) {
  if (span < 3e5) return `${+(ms / 1000).toFixed(step < 1000 ? 1 : 0)} s`;
  return `${+(ms / 6e4).toFixed(1)} min`;
}

/** The axis from start to end: x(t) as a percentage, and the ticks */
export function axis(start, end) {
  const span = Math.max(end - start, 1000);
  const step = tickStep(span);
  const ticks = [];
  for (let t = 0; t <= span + 1; t += step) ticks.push({ at: t, pct: (t / span) * 100, label: tickLabel(t, step, span) });
  return { start, end: start + span, span, x: (t) => Math.min(100, Math.max(0, ((t - start) / span) * 100)), ticks };
}

/** When a stage's last span ends (open spans end now) */
/** Groups consecutive stages of the same shot, keeping plan order */
export function groupByShot(stages) {
  const groups = [];
  for (const st of stages) {
    const shot = st.shot ?? null;
    if (!groups.length || groups.at(-1).shot !== shot) groups.push({ shot, stages: [] });
    groups.at(-1).stages.push(st);
  }
  return groups;
}

/** One sentence per span and event, the accessible text of a row's bars */
function describe(st, now, crit) {
  const parts = st.spans.map((sp) => `${PHASES[sp.phase] || sp.phase} ${dur((sp.to ?? now) - sp.from)}${sp.to == null ? ' so far' : ''}${sp.attempt ? `, attempt ${sp.attempt}` : ''}${sp.model ? ` on ${sp.model}` : ''}`);
  for (const ev of st.events || []) if (MARKERS[ev.kind]) parts.push(`${MARKERS[ev.kind]}${ev.attempt ? ` (attempt ${ev.attempt})` : ''}${ev.detail ? `: ${ev.detail}` : ''}`);
  if (crit) parts.push('on the critical path');
  return `${st.id}: ${parts.join('; ') || 'not started'}`;
}

function bar(sp, ax, now) {
  const to = sp.to ?? now;
  const width = Math.max(0, ax.x(to) - ax.x(sp.from));
  // Text only where it fits; the title and the row's accessible name always have it
  const wide = sp.phase !== 'waiting_for_inputs' && width >= 4;
  const label = [sp.attempt && width >= 1.5 ? `#${sp.attempt}` : '', wide ? sp.model || '' : ''].join(' ').trim();
  const el = h('span', { class: `bar ph-${sp.phase}${sp.to == null ? ' open' : ''}`, title: `${PHASES[sp.phase] || sp.phase} · ${dur(to - sp.from)}${sp.attempt ? ` · attempt ${sp.attempt}` : ''}${sp.model ? ` · ${sp.model}` : ''}${sp.detail ? ` · ${sp.detail}` : ''}` }, label);
  el.style.left = `${ax.x(sp.from)}%`;
  el.style.width = `${width}%`;
  return el;
}

function marker(ev, ax) {
  const el = h('span', { class: `mk mk-${ev.kind}`, title: `${MARKERS[ev.kind]}${ev.attempt ? ` · attempt ${ev.attempt}` : ''}${ev.detail ? ` · ${ev.detail}` : ''}` });
  el.style.left = `${ax.x(ev.at)}%`;
  return el;
}

function legend() {
  return h('ul', { class: 'legend', 'aria-label': 'Legend' },
    Object.entries(PHASES).map(([k, v]) => h('li', null, h('span', { class: `sw bar ph-${k}`, 'aria-hidden': 'true' }), v)),
    Object.entries(MARKERS).map(([k, v]) => h('li', null, h('span', { class: `sw mk mk-${k}`, 'aria-hidden': 'true' }), v)),
    h('li', null, h('span', { class: 'sw bar crit-sw', 'aria-hidden': 'true' }), 'critical path'));
}

function gridlines(ax) {
  return ax.ticks.map((t) => {
    const g = h('span', { class: 'gl' });
    g.style.left = `${t.pct}%`;
    return g;
  });
}

/** The timeline's nodes; onSelect(stageId) opens a stage */
export function timelineNodes(tl, { selected, onSelect, statusOf }) {
  const now = tl.now ?? Date.now();
  const end = tl.ended_at ?? now;
  const ax = axis(tl.started_at ?? now, Math.max(end, tl.started_at ?? now));
  const crit = new Set(tl.critical_path || []);
  const axisRow = h('div', { class: 'tl-row tl-axis', 'aria-hidden': 'true' }, h('span', { class: 'tl-label' }, 'time since start'),
    h('div', { class: 'tl-track' }, ax.ticks.map((t) => {
      const el = h('span', { class: 'tick' }, t.label);
      el.style.left = `${t.pct}%`;
      return el;
    })));
  const groups = groupByShot(tl.stages || []).map((g) => h('div', { class: 'tl-group', role: 'group', 'aria-label': g.shot ? `Shot ${g.shot}` : 'Whole render' },
    h('div', { class: 'tl-shot' }, g.shot ? `Shot ${g.shot}` : 'Whole render'),
    g.stages.map((st) => {
      const isCrit = crit.has(st.id);
      const status = statusOf?.(st.id) || st.status;
      const track = h('div', { class: 'tl-track', role: 'img', 'aria-label': describe(st, now, isCrit), onclick: () => onSelect(st.id) },
        gridlines(ax), st.spans.map((sp) => bar(sp, ax, now)), (st.events || []).filter((e) => MARKERS[e.kind]).map((e) => marker(e, ax)));
      return h('div', { class: ['tl-row', isCrit && 'crit', selected === st.id && 'sel'], testid: 'timeline-row', 'data-stage': st.id },
        h('button', { type: 'button', class: 'tl-label', 'data-key': `tl:${st.id}`, 'aria-current': selected === st.id ? 'true' : null, onclick: () => onSelect(st.id) },
          h('span', { class: 'mono' }, st.id), h('span', { class: `badge b-${status}` }, (status || '').replace(/_/g, ' '))),
        track);
    })));
  return [
    h('div', { class: 'tl-meta' }, legend(), h('p', { class: 'muted' },
      `${dur(end - ax.start)}${tl.ended_at ? '' : ' so far'}`,
      crit.size ? ` · critical path: ${[...crit].join(' → ')}` : '')),
    h('div', { class: 'tl' }, axisRow, groups),
  ];
}
