// What the engine tells observers (metrics, the dashboard) as it works, without knowing who listens:
// how each new conversation got its process from the warm pool, and each turn's start and end.
// Listeners must be cheap and must not throw into the engine (Engine.emit catches and logs).
import type { ConversationPath } from './conversation-port.js';
import type { GatewayError } from '../errors.js';
import type { Usage } from './types.js';

/**
 * How a new conversation got its process: `hit`, a spare that had finished starting; `rewound`, a
 * finished one-shot conversation's process taken back to before its first message (no start either);
 * `starting`, a spare still starting (it saves only part of the wait); `cold`, none there, a new one started.
 */
export type WarmTake = 'hit' | 'rewound' | 'starting' | 'cold';

export interface TurnStart {
  /** The turn's id (also the id of the response a dialect renders from it). */
  id: string;
  /** The resolved model id. */
  model: string;
  path: ConversationPath;
  /** Time spent waiting for a concurrency slot. */
  queueMs: number;
  startedAt: number;
  /** The turn continues a turn suspended for the client's tools. */
  toolResults: boolean;
}

export interface TurnEnd {
  /** The stop reason of a turn that answered; else 'error', 'client_gone' or 'tool_use' (handed to the client). */
  outcome: string;
  /** The process had finished starting when the turn got it. */
  wasReady: boolean;
  readyMs?: number;
  ttftMs?: number;
  totalMs: number;
  /** What the client was told (the final event's usage), or what was used before a failure. */
  usage: Usage;
  costUsd?: number;
  /** Why the turn failed, when it did. */
  error?: GatewayError;
}

export interface EngineEvents {
  warmTake?(how: WarmTake): void;
  turnStart?(turn: TurnStart): void;
  turnEnd?(turn: TurnStart, end: TurnEnd): void;
}

/** The engine's listeners: a listener that throws is logged, never felt by the turn. */
export class EventHub {
  private readonly listeners = new Set<EngineEvents>();

  constructor(private readonly log: { error(obj: object, msg: string): void }) {}

  listen(listener: EngineEvents): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(call: (l: EngineEvents) => void): void {
    for (const l of this.listeners) {
      try {
        call(l);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'engine listener failed');
      }
    }
  }
}
