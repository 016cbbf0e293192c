// What a request's handlers can reach without it being passed down: its context (for the dialect's
// error shape) and the gateway's set of open streams (which a shutdown ends with an error event).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'hono';
import { GatewayError } from '../errors.js';

/** An open stream a shutdown can end: it writes its dialect's error event, closes, and stops its turn. */
export interface Cuttable {
  cut(err: GatewayError): void;
}

export class OpenStreams {
  private readonly open = new Set<Cuttable>();
  private waiters: (() => void)[] = [];
  /** Set when the gateway begins to stop: a turn that fails from then on failed because of it. */
  shuttingDown = false;

  get size(): number {
    return this.open.size;
  }

  add(s: Cuttable): () => void {
    this.open.add(s);
    return () => {
      this.open.delete(s);
      if (!this.open.size) this.waiters.splice(0).forEach((w) => w());
    };
  }

  /** Resolves once no stream is open. */
  idle(): Promise<void> {
    return this.open.size ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
  }

  /** End every open stream with the shutdown error. */
  cutAll(): number {
    const n = this.open.size;
    for (const s of [...this.open]) s.cut(shutdownError());
    return n;
  }
}

export function shutdownError(): GatewayError {
  return new GatewayError('unavailable', 'The gateway is shutting down and cut this answer short; retry the request.', { code: 'server_shutting_down', retryAfterSec: 5 });
}

export interface RequestScope {
  c: Context;
  streams: OpenStreams;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
