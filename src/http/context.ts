import type { Context } from 'hono';
import type { GatewayConfig } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';

/** What every route needs. */
export interface RouteDeps {
  config: GatewayConfig;
  engine: Engine;
  log: Logger;
}

/** An AbortController that fires when the client disconnects (and that routes abort on failure). */
export function clientAbort(c: Context): AbortController {
  const ac = new AbortController();
  const s = c.req.raw.signal;
  if (s.aborted) ac.abort();
  else s.addEventListener('abort', () => ac.abort(), { once: true });
  return ac;
}
