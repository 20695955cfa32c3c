// The dashboard's only way to the data: the HTTP API under /api/v1, with the Bearer token the user gave.

const KEY = 'trienkhai.token';

export function getToken() {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

/** Keep the token for this tab (sessionStorage), or on this machine too when asked. */
export function setToken(token, remember = false) {
  sessionStorage.setItem(KEY, token);
  if (remember) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

/**
 * `#token=…` (as `trienkhai up` prints it) is taken once: kept, then removed from the address so it
 * is neither bookmarked nor left in the history.
 */
export function takeTokenFromHash() {
  const m = /^#token=([^&]+)(?:&(.*))?$/.exec(location.hash);
  if (!m) return false;
  let token = m[1];
  try {
    token = decodeURIComponent(m[1]);
  } catch {
    // kept as written: the server says whether it is a token
  }
  setToken(token);
  history.replaceState(null, '', `${location.pathname}${location.search}#/${m[2] ? m[2].replace(/^\/?/, '') : ''}`);
  return true;
}

/** A refusal or failure, with the API's code and the fields it names. */
export class ApiError extends Error {
  constructor(status, code, message, issues = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (e) {
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data?.error ?? 'http', data?.message ?? `${res.status} ${res.statusText}`, data?.issues ?? []);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});

/** A query string from the defined values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
