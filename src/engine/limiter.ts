// A global concurrency limit with a bounded FIFO queue. acquire() resolves with a release function
// once a slot is free; it rejects with 429 when the queue is full or the wait is too long, and stops
// waiting when the caller's signal aborts (a client that went away never takes a slot).
import { GatewayError } from '../errors.js';

interface Waiter {
  grant: (release: () => void) => void;
  fail: (err: Error) => void;
}

export class Limiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueue: number,
    private readonly queueTimeoutMs: number,
    private readonly retryAfterSec: () => number,
  ) {}

  get running(): number {
    return this.active;
  }
  get waiting(): number {
    return this.queue.length;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new GatewayError('rate_limited', 'The gateway is at capacity; retry after the indicated delay.', {
          retryAfterSec: this.retryAfterSec(),
          code: 'queue_full',
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const onAbort = () => waiter.fail(signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(
        () =>
          waiter.fail(
            new GatewayError('rate_limited', 'Timed out waiting for a free slot; retry after the indicated delay.', {
              retryAfterSec: this.retryAfterSec(),
              code: 'queue_timeout',
            }),
          ),
        this.queueTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queue.shift();
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}
