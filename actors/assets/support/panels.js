// The render page's side panels: artifacts (master, poster, variants, captions), memory (which
// Graph rows shaped which stages) and costs (by shot, and the ledger).

import { h, dl, table } from './dom.js';
import { usd, when, media } from './format.js';

/** The finished outputs; a running render has none yet */
export function artifacts(view) {
  const master = media(view.master_url);
  const poster = media(view.poster_url);
  const captions = media(view.captions_url);
  const variants = view.variants || [];
  if (!master && !poster && !variants.length) {
    return h('p', { class: 'muted' }, view.status === 'succeeded' ? 'No outputs recorded.' : 'No master yet: outputs appear when the render is assembled.');
  }
  return h('div', { class: 'outputs' },
    master && h('figure', { class: 'master' },
      h('video', { src: master, poster, controls: true, preload: 'metadata', testid: 'master-video', 'aria-label': 'Master video' },
        captions && h('track', { kind: 'captions', src: captions, srclang: 'en', label: 'Captions', default: true })),
      h('figcaption', null, 'Master', ' · ', h('a', { href: master, target: '_blank', rel: 'noopener' }, 'open'))),
    h('div', { class: 'variants' },
      poster && h('figure', { class: 'poster' }, h('img', { src: poster, alt: 'Poster frame', testid: 'poster' }), h('figcaption', null, 'Poster')),
      variants.map((v) => h('figure', { class: 'variant', testid: 'variant', 'data-aspect': v.aspect },
        h('video', { src: media(v.url), controls: true, preload: 'metadata', 'aria-label': `Variant ${v.aspect}` }),
        h('figcaption', null, `Variant ${v.aspect}`)))),
    captions ? h('p', null, h('a', { href: captions, testid: 'captions-link', download: 'captions.vtt' }, 'Captions (WebVTT)')) : h('p', { class: 'muted' }, 'No captions.'));
}

/** Graph row -> the stages it shaped */
export function shapedBy(view) {
  const rows = new Map();
  for (const st of view.stages || []) for (const r of st.shaping?.shaped_by || []) (rows.get(r) || rows.set(r, []).get(r)).push(st.id);
  return [...rows.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function memory(view, onSelect) {
  const rows = shapedBy(view);
  return h('div', null,
    h('p', null, view.memory_context_used ? 'The creator’s memory graph was consulted for this render.' : 'No memory context was used for this render.'),
    rows.length ? table({
      caption: 'Graph rows and the stages they shaped',
      cols: ['Graph row', 'Stages'],
      rows: rows.map(([r, ids]) => [h('span', { class: 'mono' }, r), h('span', { class: 'deps' }, ids.map((id) => h('button', { type: 'button', class: 'link mono', onclick: () => onSelect(id) }, id)))]),
    }) : h('p', { class: 'muted' }, 'No Graph row shaped any stage.'));
}

/** Spend per shot from the ledger (every attempt), stages without a shot as "whole render" */
export function costByShot(view) {
  const shotOf = new Map((view.stages || []).map((st) => [st.id, st.shot || 'whole render']));
  const sums = new Map();
  const ledger = view.cost_ledger?.rows;
  const add = (shot, v) => sums.set(shot, (sums.get(shot) || 0) + (v || 0));
  if (ledger) for (const r of ledger) add(shotOf.get(r.stage_id) || 'whole render', r.usd);
  else for (const st of view.stages || []) add(st.shot || 'whole render', st.cost_usd);
  return [...sums.entries()].sort(([a], [b]) => (a === 'whole render') - (b === 'whole render') || a.localeCompare(b));
}

export function costs(view) {
  const rows = view.cost_ledger?.rows || [];
  const total = view.cost_ledger?.total_usd ?? view.cost_usd;
  const tot = (label, v, span) => h('tr', null, h('th', { scope: 'row', colspan: span }, label), h('td', { class: 'num' }, usd(v)));
  return h('div', { testid: 'costs' },
    dl([['Budget', usd(view.budget_usd)], ['Committed', usd(view.committed_usd)], ['Spent', usd(view.cost_usd)]], 'kv inline'),
    table({ caption: 'By shot', cols: ['Shot', '#Spent'], rows: costByShot(view).map(([s, v]) => [s, usd(v)]), foot: tot('Total', total, 1) }),
    h('details', { class: 'ledger' }, h('summary', null, `Ledger (${rows.length} row${rows.length === 1 ? '' : 's'})`),
      h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Cost ledger' },
        table({
          testid: 'cost-ledger',
          cols: ['Recorded', 'Stage', 'Provider', 'Model', '#Attempt', '#USD'],
          rows: rows.map((r) => [when(r.recorded_at), h('span', { class: 'mono' }, r.stage_id), r.provider, r.model, r.attempt, usd(r.usd)]),
          foot: tot('Total', total, 5),
        }))));
}
