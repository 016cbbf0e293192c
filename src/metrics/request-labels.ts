// Labels a request is counted under: its route (the pattern it matched, never the raw path, so ids
// do not make new series) and the name of the key it presented.
import type { Context } from 'hono';
import { routePath } from 'hono/route';

const KEY_NAME = 'keyName' as never;

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
  c.set(KEY_NAME, name as never);
}

/** The key's name, 'admin' for the gateway key, 'none' when no key was accepted. */
export function keyNameOf(c: Context): string {
  const named = c.get(KEY_NAME) as string | undefined;
  if (named) return named;
  return c.get('owner' as never) ? 'admin' : 'none';
}
