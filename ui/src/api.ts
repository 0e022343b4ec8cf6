/**
 * The dashboard's one way to the gateway. Requests carry the session cookie (set by
 * POST /ui/session, HttpOnly, so script never sees it); every change also carries the session's
 * CSRF token, which lives only in memory. A 401 anywhere means the session is over: the app goes
 * back to the sign-in page.
 */

export interface Session {
  readonly role: 'master' | 'admin';
  readonly team_id: string | null;
  readonly key_id: string | null;
  readonly csrf_token: string;
}

/** An answer that is not 2xx, with the gateway's error code when it sent one (OpenAI-shaped). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let sessionEnded: () => void = () => {};

/** Called by the app once: what to do when the gateway no longer accepts the session. */
export function onSessionEnd(handler: () => void): void {
  sessionEnded = handler;
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.ok) return response;
  let code: string | null = null;
  let message = `${response.status} ${response.statusText}`;
  try {
    const parsed = (await response.json()) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? null;
    if (parsed.error?.message) message = parsed.error.message;
  } catch {
    // Not JSON (e.g. a proxy's page): the status line says enough.
  }
  if (response.status === 401 && !path.startsWith('/ui/session')) {
    csrfToken = null;
    sessionEnded();
  }
  throw new ApiError(response.status, code, message);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await call(method, path, body);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);

/** The current session, or null when there is none (no cookie, expired, or its key revoked). */
export async function currentSession(): Promise<Session | null> {
  try {
    const session = await api<Session>('GET', '/ui/session');
    csrfToken = session.csrf_token;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function signIn(key: string): Promise<Session> {
  const session = await api<Session>('POST', '/ui/session', { key });
  csrfToken = session.csrf_token;
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await api<void>('DELETE', '/ui/session');
  } finally {
    csrfToken = null;
  }
}

/** Builds a query string from the fields that are set. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface List<T> {
  readonly object?: 'list';
  readonly data: T[];
  readonly next_cursor?: string | null;
}
