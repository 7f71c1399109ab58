// Formatting of money, numbers, times and durations: one place so every screen agrees.

const usdFmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const DASH = '—';

/** $2.44, $0.0195, or — */
// Sums of float costs can land a hair below zero; `+ 0` and the rounding keep "-$0.00" away.
export const usd = (n) =>
  typeof n === 'number' && isFinite(n) ? usdFmt.format(Math.abs(n) < 5e-5 ? 0 : n + 0) : DASH;

/** A number with at most `d` decimals, or — */
export const num = (n, d = 2) => (typeof n === 'number' && isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d }) : DASH);

/** A score 0..1 with two decimals (fixed, so columns line up) */
export const score = (n) => (typeof n === 'number' && isFinite(n) ? n.toFixed(2) : DASH);

/** A ratio as a percentage */
export const pct = (n) => (typeof n === 'number' && isFinite(n) ? `${(n * 100).toFixed(1)} %` : DASH);

/** Milliseconds as "850 ms", "12.3 s", "2 min 5 s", "1 h 4 min" */
export function dur(ms) {
  if (typeof ms !== 'number' || !isFinite(ms)) return DASH;
  const neg = ms < 0 ? '−' : '';
  ms = Math.abs(ms);
  if (ms < 1000) return `${neg}${Math.round(ms)} ms`;
  if (ms < 60000) return `${neg}${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${neg}${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${neg}${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Local date and time, unambiguous: "2026-11-30 14:07:04" */
export function when(ms) {
  if (typeof ms !== 'number' || !isFinite(ms) || ms <= 0) return DASH;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
}

/** Local time of day; with milliseconds for journal rows */
export function clock(ms, withMs = false) {
  if (typeof ms !== 'number' || !isFinite(ms)) return DASH;
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${t}.${pad(d.getMilliseconds(), 3)}` : t;
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago" (or "in ...") */
export function ago(ms, now = Date.now()) {
  if (typeof ms !== 'number' || !isFinite(ms) || ms <= 0) return '';
  const d = now - ms;
  const a = Math.abs(d) / 1000;
  if (a < 5) return 'just now';
  const txt = a < 60 ? `${Math.round(a)} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  return d >= 0 ? `${txt} ago` : `in ${txt}`;
}

/** "2026-11-30 14:07:04 (3 min ago)" */
export const whenAgo = (ms) => (when(ms) === DASH ? DASH : `${when(ms)} (${ago(ms)})`);

/** Bytes as "81 KB", "1.3 MB" */
export function bytes(n) {
  if (typeof n !== 'number' || !isFinite(n)) return DASH;
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** datetime-local value <-> ms since the epoch (local time, as the input shows it) */
export function localInputToMs(v) {
  const t = v ? new Date(v).getTime() : NaN;
  return isFinite(t) ? t : null;
}
export function msToLocalInput(ms) {
  if (!isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Statuses after which a render changes no more (unless support restarts it) */
export const ENDED = ['succeeded', 'failed', 'cancelled'];
export const isActive = (status) => !!status && !ENDED.includes(status);

/** Signed media links are absolute and name the Worker's public base URL; the page may be
 *  served under another host name (localhost vs 127.0.0.1, a proxy), where CSP 'self' would
 *  block them, so our own /v1/media/ links are made relative to this origin. */
export function media(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.href);
    return u.pathname.startsWith('/v1/media/') ? u.pathname + u.search : u.href;
  } catch {
    return null;
  }
}
