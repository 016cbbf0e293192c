// Labels a request is counted under: its route (the pattern it matched, never the raw path, so ids
// do not make new series) and the name of the key it presented.
import type { Context } from 'hono';
import { routePath } from 'hono/route';

declare module 'hono' {
  interface ContextVariableMap {
    /** The name of the key a self-guarded route let the request in with. */
    keyName: string;
  }
}

/** The route pattern that answered (e.g. /v1/responses/:id); 'unmatched' for paths no route serves. */
export function routeLabel(c: Context): string {
  let p = '';
  try {
    p = routePath(c, -1);
  } catch {
    /* not routed (the request failed before routing) */
  }
  return !p || p === '*' || p === '/*' ? 'unmatched' : p;
}

/** Record which key a request was let in with (its name; 'admin' for the gateway key). */
export function setKeyName(c: Context, name: string): void {
  c.set('keyName', name);
}

/**
 * The key's name: an app key's own name, 'admin' for the gateway key (or its web session), 'metrics'
 * for the scrape key, 'none' when no key was accepted. The key check (admin/access.ts) puts the caller
 * on the request; /metrics and /dashboard, which check their own, set the name here.
 */
export function keyNameOf(c: Context): string {
  return c.get('caller')?.name ?? c.get('keyName') ?? 'none';
}
