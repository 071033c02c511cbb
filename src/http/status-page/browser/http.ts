/**
 * The page's requests to its own server, always by absolute URLs built from `location.origin`
 * (which never holds credentials) and the page's path. A page opened as
 * `http://user:TOKEN@host/` keeps the credentials in its document URL, against which fetch
 * resolves a relative URL, and fetch refuses a URL with credentials ("Request cannot be
 * constructed from a URL that includes credentials"; test/e2e/status-page-runs.test.ts). The
 * browser still sends the Basic credentials it signed in with (same origin). Paths are
 * relative to the page, so it also works behind a proxy that serves it under a path.
 */
import type { PageErrorAnswer } from './overview.js';

/** The absolute URL of `path` (relative to the page), without credentials. */
export function apiUrl(path: string): string {
  return new URL(path, location.origin + location.pathname).href;
}

export function errorText(err: unknown): string {
  return err instanceof Error && err.message ? err.message : String(err);
}

/** An error answer as one line: `HTTP 409 code: message`, or its status alone. */
export async function problem(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as PageErrorAnswer | null;
    if (body?.error) return `HTTP ${res.status} ${body.error.code}: ${body.error.message}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${res.status}`;
}

/** GET `path` as JSON (no cache). */
export function getJson(path: string): Promise<Response> {
  return fetch(apiUrl(path), { headers: { accept: 'application/json' }, cache: 'no-store' });
}

/** POST to `path` (same origin: the server checks it for Basic credentials). */
export function post(path: string): Promise<Response> {
  return fetch(apiUrl(path), { method: 'POST', headers: { accept: 'application/json' } });
}
