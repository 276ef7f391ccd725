// The app's one way to the Sealbox HTTP API, on the same origin. The session cookie is
// HttpOnly and SameSite=Strict; every state change also carries the CSRF token handed out at
// sign-in, kept in localStorage so that reloads and other tabs of the same session keep it.
const CSRF_KEY = 'sealbox.csrf';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: string[];   // the input fields the server names as at fault

  constructor(status: number, code: string, message: string, fields: string[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

// Called when the session has ended (expired, signed out elsewhere): the app shows sign-in.
let sessionEnded: (() => void) | null = null;
export function onSessionEnded(handler: (() => void) | null): void {
  sessionEnded = handler;
}

// Whether this browser holds a session's CSRF token: without one there is no session to ask
// about (the cookie itself is HttpOnly), so a signed-out visit asks the server nothing and the
// console shows no 401.
export function hasCsrfToken(): boolean {
  return localStorage.getItem(CSRF_KEY) !== null;
}

export function setCsrfToken(token: string | null): void {
  if (token) localStorage.setItem(CSRF_KEY, token);
  else localStorage.removeItem(CSRF_KEY);
}

type Method = 'GET' | 'POST' | 'DELETE';

async function call<T>(method: Method, path: string, body?: unknown, raw?: { contentType: string; data: BodyInit }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = localStorage.getItem(CSRF_KEY) ?? '';
  let payload: BodyInit | undefined;
  if (raw) {
    headers['content-type'] = raw.contentType;
    payload = raw.data;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Sealbox cannot be reached; check the connection and try again.');
  }
  const text = await res.text();
  let json: unknown = null;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; fields?: string[] } } | null)?.error;
    if (res.status === 401 && !path.startsWith('/api/v1/session') && !path.startsWith('/api/v1/enrol') && !path.startsWith('/api/v1/sso/')) sessionEnded?.();
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.slice(0, 300) || res.statusText), err?.fields);
  }
  return (json ?? text) as T;
}

// Query strings from an object; empty values are left out.
export function qs(params: Record<string, string | number | boolean | null | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  del: <T>(path: string) => call<T>('DELETE', path),
  upload: <T>(path: string, contentType: string, data: BodyInit) => call<T>('POST', path, undefined, { contentType, data }),
};
