// DOM helpers. Everything that comes from the API goes in as text nodes or attributes, never as
// HTML, and nothing sets a style attribute (the CSP forbids inline styles; CSSOM writes such as
// el.style.left are fine and are done by the callers that need them).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Applies props to an element: class, testid, on* listeners, DOM properties, attributes. */
function applyProps(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'testid') el.setAttribute('data-testid', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'disabled', 'hidden', 'selected', 'open'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('p', {class: 'x'}, 'text', child): an HTML element; strings become text nodes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

/** Replaces a container's children. */
export function put(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Re-renders a container while keeping keyboard focus: if the focused element inside it has a
 * data-key, the element with the same key in the new content gets focus back. Live refreshes
 * would otherwise throw a keyboard user back to the top of the page every few seconds.
 */
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  render();
  if (key) {
    const again = [...container.querySelectorAll('[data-key]')].find((e) => e.getAttribute('data-key') === key);
    if (again) again.focus({ preventScroll: true });
  }
}

/** A JSON signature of a value without signed URLs (they change on every fetch). */
export function sig(value) {
  return JSON.stringify(value, (k, v) => (k === 'url' || k.endsWith('_url') ? undefined : v));
}

/** A small definition list from [label, value] pairs; null values are skipped. */
export function dl(pairs, cls = 'kv') {
  return h('dl', { class: cls }, pairs.filter((p) => p && p[1] !== null && p[1] !== undefined && p[1] !== '')
    .map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
}

/** A table with a header row (th scope=col) and body rows; numeric columns are right-aligned. */
export function table({ caption, cols, rows, testid, cls, foot }) {
  const num = cols.map((c) => c.startsWith('#'));
  return h('table', { class: ['grid', cls], testid },
    caption && h('caption', null, caption),
    h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: num[i] && 'num' }, num[i] ? c.slice(1) : c)))),
    h('tbody', null, rows.map((r) => (r instanceof Node ? r : h('tr', null, r.map((cell, i) =>
      cell instanceof Node && cell.tagName === 'TD' ? cell : h('td', { class: num[i] && 'num' }, cell)))))),
    foot && h('tfoot', null, foot));
}

/** A status badge whose colour comes from its class. */
export function badge(status, testid) {
  const v = status || 'unknown';
  return h('span', { class: `badge b-${v}`, testid }, v.replace(/_/g, ' '));
}
