// A stage's details: its attempts, Ra's routing decision (every candidate's five scores), how
// the prompt was shaped and by which Graph rows, its cost and artifacts, and (admins only) the
// stage actions.

import { h, dl, table, badge } from './dom.js';
import { usd, dur, when, clock, score, bytes, media } from './format.js';

const SCORES = ['quality', 'cost', 'latency', 'continuity', 'outcome'];

/** An in-place preview chosen by content type */
export function preview(a) {
  const src = media(a.url);
  const type = a.content_type || '';
  const caption = h('figcaption', null, [a.name, type, bytes(a.bytes), a.aspect].filter(Boolean).join(' · '), ' ', src && h('a', { href: src, target: '_blank', rel: 'noopener' }, 'open'));
  let el = null;
  if (src && type.startsWith('image/')) el = h('img', { src, alt: `${a.name || 'image'} artifact`, loading: 'lazy' });
  else if (src && type.startsWith('video/')) el = h('video', { src, controls: true, preload: 'metadata', 'aria-label': `${a.name || 'video'} artifact` });
  else if (src && type.startsWith('audio/')) el = h('audio', { src, controls: true, preload: 'metadata', 'aria-label': `${a.name || 'audio'} artifact` });
  return h('figure', { class: 'artifact' }, el, caption);
}

function outcome(o) {
  if (!o) return '—';
  return h('span', null, badge(o.outcome), o.reason ? ` ${o.reason}` : '');
}

function attempts(st) {
  const list = st.attempts || [];
  if (!list.length) return h('p', { class: 'muted' }, 'No attempt yet.');
  return table({
    testid: 'attempts',
    cols: ['##', 'Provider · model, task id', 'Started', 'Ended', '#Took', '#Reserved', 'Outcome'],
    rows: list.map((a) => [a.attempt, h('span', null, `${a.provider || '?'} · ${a.model || '?'}`, h('br'), h('span', { class: 'mono wrap small', title: 'provider task id' }, a.provider_ref || 'no task id yet')),
      h('span', { title: when(a.started_at) }, clock(a.started_at)),
      a.ended_at ? h('span', { title: when(a.ended_at) }, clock(a.ended_at)) : 'in flight',
      dur((a.ended_at ?? Date.now()) - a.started_at),
      typeof a.reserved === 'number' ? usd(a.reserved / 1e6) : '—',
      h('span', null, outcome(a.outcome), a.note ? h('span', { class: 'muted' }, ` ${a.note}`) : '')]),
  });
}

function decision(st) {
  const d = st.decision;
  if (!d) return h('p', { class: 'muted' }, 'No routing decision recorded for this stage.');
  const cands = d.candidates || [];
  return h('div', null,
    d.reason && h('p', { class: 'reason' }, d.reason),
    d.said && h('blockquote', { class: 'said' }, h('span', { class: 'who-said' }, 'Ra to the Director: '), d.said),
    dl([['Budget when routed', d.budget_usd != null ? usd(d.budget_usd) : null], ['Registry version', d.registry_version]]),
    cands.length ? table({
      testid: 'decision-candidates',
      caption: 'Candidates, as Ra ranked them (scores 0–1, higher is better)',
      cols: ['Model', ...SCORES.map((k) => `#${k}`), '#Est. cost', '#Est. latency'],
      rows: cands.map((c) => h('tr', { class: c.model === st.model ? 'chosen' : null },
        h('td', null, c.model, c.model === st.model ? h('span', { class: 'tag' }, 'chosen') : ''),
        SCORES.map((k) => h('td', { class: 'num', testid: 'score', 'data-score': k }, score(c.scores?.[k]))),
        h('td', { class: 'num' }, usd(c.cost_usd)),
        h('td', { class: 'num' }, dur(c.latency_ms)))),
    }) : h('p', { class: 'muted' }, 'No candidates recorded.'),
    (d.excluded || []).length ? h('div', null, h('h4', null, 'Excluded'),
      h('ul', { class: 'excluded' }, d.excluded.map(([m, why]) => h('li', null, h('strong', null, m), ` — ${why}`)))) : null,
    (d.notes || []).length ? h('ul', { class: 'notes' }, d.notes.map((n) => h('li', null, typeof n === 'string' ? n : JSON.stringify(n)))) : null);
}

function shaping(st) {
  const sh = st.shaping;
  if (!sh) return h('p', { class: 'muted' }, 'No shaping recorded.');
  return dl([
    ['Prompt', sh.prompt ? h('span', { class: 'prompt' }, sh.prompt) : '—'],
    ['Negative prompt', sh.negative_prompt],
    ['Language', sh.language],
    ['Voice', sh.voice_id && h('span', { class: 'mono' }, sh.voice_id)],
    ['Aspect', sh.aspect],
    ['Shaped by', (sh.shaped_by || []).length ? h('ul', { class: 'chips' }, sh.shaped_by.map((r) => h('li', { class: 'chip mono' }, r))) : 'no Graph row'],
  ], 'kv rows');
}

function actions(st, onAction) {
  const options = st.reroute_options || [];
  const model = h('select', { id: 'reroute-model', testid: 'reroute-model', disabled: !options.length },
    options.length ? options.map((m) => h('option', { value: m }, m)) : h('option', { value: '' }, 'no other model can run it'));
  return h('div', { class: 'stage-actions', testid: 'stage-actions' },
    h('button', { type: 'button', testid: 'action-retry', onclick: () => onAction('retry_stage', st.id) }, 'Retry stage'),
    h('span', { class: 'reroute' },
      h('label', { for: 'reroute-model' }, 'Reroute to'), model,
      h('button', { type: 'button', testid: 'action-reroute', disabled: !options.length, onclick: () => onAction('reroute', st.id, model.value) }, 'Reroute')),
    h('button', { type: 'button', testid: 'action-restart', onclick: () => onAction('restart_from', st.id) }, 'Restart from here'));
}

/**
 * The panel's content for one stage. ctx: {admin, onAction(action, stage, model?),
 * onSelect(stageId), onClose(), critical: bool}
 */
export function stageDetails(st, ctx) {
  const deps = st.deps || [];
  return h('div', { class: 'stage' },
    h('div', { class: 'panel-head' },
      h('h2', { id: 'stage-title', tabindex: '-1' }, 'Stage ', h('span', { class: 'mono' }, st.id)),
      badge(st.status, 'stage-status'),
      ctx.critical ? h('span', { class: 'tag crit-tag' }, 'critical path') : null,
      h('button', { type: 'button', class: 'close', testid: 'stage-close', 'aria-label': 'Close stage details', onclick: ctx.onClose }, 'Close')),
    st.waiting && h('p', { class: 'note warn' }, st.waiting),
    st.error && h('p', { class: 'note bad' }, typeof st.error === 'string' ? st.error : JSON.stringify(st.error)),
    dl([
      ['Kind', st.kind],
      ['Shot', st.shot || 'whole render'],
      ['Model', st.model],
      ['Attempt', st.attempt],
      ['Cost', usd(st.cost_usd)],
      ['Took', typeof st.seconds === 'number' ? dur(st.seconds * 1000) : null],
      ['Depends on', deps.length ? h('span', { class: 'deps' }, deps.map((d) => h('button', { type: 'button', class: 'link mono', onclick: () => ctx.onSelect(d) }, d))) : 'nothing'],
    ]),
    ctx.admin && h('section', { 'aria-labelledby': 'sa-h' }, h('h3', { id: 'sa-h' }, 'Actions'), actions(st, ctx.onAction)),
    h('section', { 'aria-labelledby': 'at-h' }, h('h3', { id: 'at-h' }, 'Attempts'), attempts(st)),
    h('section', { 'aria-labelledby': 'rd-h' }, h('h3', { id: 'rd-h' }, 'Routing decision'), decision(st)),
    h('section', { 'aria-labelledby': 'sh-h' }, h('h3', { id: 'sh-h' }, 'Shaping'), shaping(st)),
    h('section', { 'aria-labelledby': 'sx-h' }, h('h3', { id: 'sx-h' }, 'Artifacts'),
      (st.artifacts || []).length ? h('div', { class: 'artifact-grid' }, st.artifacts.map(preview)) : h('p', { class: 'muted' }, 'None yet.')));
}
