import crypto from 'node:crypto';
import type { Context } from 'hono';
import type { GatewayConfig } from '../config/config.js';
import type { Engine } from '../engine/engine.js';
import type { TurnMeter } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { ConversationStore } from '../conversations/stores/store.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who made the request (ownerOf). */
    owner: string;
    /** The key's limits and usage book (meterOf). */
    meter: TurnMeter;
  }
}

/** What every route needs. */
export interface RouteDeps {
  config: GatewayConfig;
  engine: Engine;
  log: Logger;
  /** Where conversations and stored responses live (files under the data dir, or Redis). */
  store: ConversationStore;
}

/**
 * Who made the request: a hash of the gateway key it presented (set by the key check in app.ts).
 * Conversations and stored responses belong to it; another key never sees them.
 */
export function ownerOf(c: Context): string {
  return c.get('owner') ?? 'anonymous';
}

/** The limits and usage book of the request's key (set by the key check for the model APIs). */
export function meterOf(c: Context): TurnMeter | undefined {
  return c.get('meter');
}

export function ownerId(key: string): string {
  return crypto.createHash('sha256').update(`owner\0${key}`).digest('hex').slice(0, 32);
}

/** An AbortController that fires when the client disconnects (and that routes abort on failure). */
export function clientAbort(c: Context): AbortController {
  const ac = new AbortController();
  const s = c.req.raw.signal;
  if (s.aborted) ac.abort();
  else s.addEventListener('abort', () => ac.abort(), { once: true });
  return ac;
}
