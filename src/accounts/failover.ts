// A turn that fails because of its credential (a limit, a refusal, an overloaded account) before the
// client has had any of it is run again on the next credential. Nothing is yielded until the first
// event of an attempt, and an event yielded is never taken back: after the first byte a failure is the
// client's to see. The attempt that failed has already told the pool (engine: Accounts.onFailure).
import type { TurnEvent, TurnMeter, TurnSummary } from '../engine/types.js';
import { isCredentialFailure, NoCredentialLeft } from './failures.js';

export interface Attempt {
  account: string | undefined;
  events: AsyncIterable<TurnEvent>;
}

export async function* withFailover(first: Attempt, again: (tried: Set<string>) => Promise<Attempt>, signal: AbortSignal): AsyncGenerator<TurnEvent> {
  const tried = new Set<string>();
  let attempt = first;
  for (;;) {
    let sent = false;
    try {
      for await (const ev of attempt.events) {
        sent = true;
        yield ev;
      }
      return;
    } catch (e) {
      if (sent || signal.aborted || attempt.account === undefined || !isCredentialFailure(e)) throw e;
      tried.add(attempt.account);
      try {
        attempt = await again(tried);
      } catch (next) {
        throw next instanceof NoCredentialLeft ? e : next;
      }
    }
  }
}

/**
 * A key's meter for one request across its attempts. An attempt's failure is held rather than booked:
 * failover may run the turn again on another credential, and the key is charged only for what its
 * client is finally told (the success, or the failure that reached it).
 */
export class HeldFailures implements TurnMeter {
  private held: TurnSummary | undefined;

  constructor(private readonly meter: TurnMeter) {}

  admit(model: { requested: string; resolved: string }): Promise<void> {
    return this.meter.admit(model);
  }

  async ended(summary: TurnSummary): Promise<void> {
    if (summary.status !== 200 && summary.status !== 499) {
      this.held = summary;
      return;
    }
    this.held = undefined;
    await this.meter.ended(summary);
  }

  async *booked(events: AsyncIterable<TurnEvent>): AsyncGenerator<TurnEvent> {
    try {
      yield* events;
    } finally {
      const held = this.held;
      this.held = undefined;
      if (held) await this.meter.ended(held);
    }
  }
}
