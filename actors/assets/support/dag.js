// The stage graph: layered by depth along the dependencies (keyframe → motion → assembly),
// nodes coloured by status, the critical path drawn bold. Nodes are focusable buttons.

import { s } from './dom.js';

const W = 132; // node width
const H = 22; // node height
const GX = 56; // gap between layers
const GY = 5; // gap between nodes of a layer
const PAD = 4;

/** Each stage's dependencies, from the edges (or the stages' deps when there are none) */
export function depsOf(stages, edges) {
  const deps = new Map(stages.map((st) => [st.id, new Set()]));
  if (edges && edges.length) for (const e of edges) deps.get(e.to)?.add(e.from);
  else for (const st of stages) for (const d of st.deps || []) deps.get(st.id)?.add(d);
  return deps;
}

/** Depth of every stage: 0 without dependencies, else one more than its deepest dependency */
export function depths(stages, edges) {
  const deps = depsOf(stages, edges);
  const depth = new Map();
  const visit = (id, seen) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0; // a cycle would be a server bug; draw it rather than hang
    seen.add(id);
    const d = Math.max(-1, ...[...(deps.get(id) || [])].filter((x) => deps.has(x)).map((x) => visit(x, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  for (const st of stages) visit(st.id, new Set());
  return depth;
}

/**
 * Positions: one column per depth; within a column, plan order refined by the average row of
 * each node's dependencies, so a motion sits beside its keyframe. Shorter columns are centred.
 */
export function layout(stages, edges) {
  const depth = depths(stages, edges);
  const deps = depsOf(stages, edges);
  const order = new Map(stages.map((st, i) => [st.id, i]));
  const layers = [];
  for (const st of stages) (layers[depth.get(st.id)] ||= []).push(st.id);
  const row = new Map();
  layers.forEach((ids, d) => {
    if (d > 0) {
      const bary = (id) => {
        const ps = [...deps.get(id)].filter((p) => row.has(p)).map((p) => row.get(p));
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : order.get(id);
      };
      ids.sort((a, b) => bary(a) - bary(b) || order.get(a) - order.get(b));
    }
    ids.forEach((id, i) => row.set(id, i));
  });
  const tallest = Math.max(1, ...layers.map((l) => l?.length || 0));
  const nodes = new Map();
  layers.forEach((ids, d) => {
    const off = ((tallest - ids.length) * (H + GY)) / 2;
    ids.forEach((id, i) => nodes.set(id, { id, x: PAD + d * (W + GX), y: PAD + off + i * (H + GY), depth: d }));
  });
  return { nodes, deps, width: PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GX, height: PAD * 2 + tallest * (H + GY) - GY };
}

const short = (id) => (id.length > 18 ? `${id.slice(0, 17)}…` : id);

/** The graph as an SVG element; onSelect(stageId) opens a stage */
export function dagSvg(view, { selected, critical = [], onSelect }) {
  const stages = view.stages || [];
  const { nodes, deps, width, height } = layout(stages, view.edges);
  const crit = new Set(critical);
  const critEdge = new Set(critical.slice(1).map((id, i) => `${critical[i]}>${id}`));
  const edges = [];
  for (const [to, froms] of deps) {
    for (const from of froms) {
      const a = nodes.get(from);
      const b = nodes.get(to);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, dx = Math.max(20, (x2 - x1) / 2);
      edges.push(s('path', { class: critEdge.has(`${from}>${to}`) ? 'edge crit' : 'edge', d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}` }));
    }
  }
  const open = (id) => (ev) => {
    if (ev.type === 'click' || ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onSelect(id);
    }
  };
  const nodeEls = stages.map((st) => {
    const n = nodes.get(st.id);
    const label = `${st.id}, ${(st.status || '').replace(/_/g, ' ')}${st.model ? `, ${st.model}` : ''}${crit.has(st.id) ? ', on the critical path' : ''}`;
    return s('g', { class: ['node', `n-${st.status}`, crit.has(st.id) && 'crit', selected === st.id && 'sel'], role: 'button', tabindex: '0', 'aria-label': label, 'aria-current': selected === st.id ? 'true' : null, 'data-key': `dag:${st.id}`, 'data-stage': st.id, testid: 'dag-node', transform: `translate(${n.x},${n.y})`, onclick: open(st.id), onkeydown: open(st.id) },
      s('title', null, `${st.id} · ${st.status}${st.model ? ` · ${st.model}` : ''}${st.waiting ? ` · ${st.waiting}` : ''}`),
      s('rect', { width: W, height: H, rx: 4 }),
      s('text', { x: 8, y: H / 2 + 4 }, short(st.id)));
  });
  return s('svg', { class: 'dag', testid: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': `Stage graph, ${stages.length} stages; columns by depth` },
    s('g', { 'aria-hidden': 'true' }, edges), nodeEls);
}
