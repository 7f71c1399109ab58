// The fetch wrapper: same-origin cookie session, the CSRF header on every non-GET request, and
// errors turned into ApiError with the API's {error: {code, message, field}} when there is one.

let csrf = null;
let authLost = () => {};

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  /** The message with the field it names, for people */
  get text() {
    return this.field && !this.message.includes(this.field) ? `${this.field}: ${this.message}` : this.message;
  }
}

/** The session's CSRF token (null when signed out) */
export const setCsrf = (token) => { csrf = token || null; };

/** Called on a 401 from any request made with {auth: true} (the default) */
export const onAuthLost = (fn) => { authLost = fn; };

/** Makes a request; resolves to the parsed JSON body (null for 204), rejects with ApiError */
export async function request(method, path, body, { auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `Could not reach the server (${e.message}).`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.ok) return data;
  const err = data && typeof data.error === 'object' && data.error ? data.error : {};
  const message = err.message || (typeof data?.error === 'string' && data.error) || text.slice(0, 300) || `HTTP ${res.status} ${res.statusText}`;
  const e = new ApiError(res.status, err.code || `http_${res.status}`, message, err.field);
  if (res.status === 401 && auth) authLost(e);
  throw e;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/** A query string from an object, leaving out empty values */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The path of a render's routes */
export const renderPath = (id, rest = '') => `/v1/support/renders/${encodeURIComponent(id)}${rest}`;
