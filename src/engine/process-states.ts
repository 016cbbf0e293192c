// Every CLI process the gateway holds, by what it is doing now (metrics, the dashboard):
//   starting   spawned, not yet initialised (a warm one or a turn's own);
//   warm       started and waiting in the warm pool for a new conversation;
//   busy       running a turn;
//   live-idle  a finished conversation's process, waiting for that conversation's next turn;
//   parked     a turn suspended while its client runs tools.
import type { CliProcess } from './cli-process.js';

export const PROCESS_STATES = ['starting', 'warm', 'busy', 'live-idle', 'parked'] as const;
export type ProcessStateName = (typeof PROCESS_STATES)[number];

export function countProcessStates(live: Iterable<CliProcess>, pooled: Iterable<CliProcess>): Record<ProcessStateName, number> {
  const inPool = new Set(pooled);
  const counts = Object.fromEntries(PROCESS_STATES.map((s) => [s, 0])) as Record<ProcessStateName, number>;
  for (const p of live) {
    if (p.state === 'spawning') counts.starting++;
    else if (p.state === 'busy') counts.busy++;
    else if (p.state === 'parked') counts.parked++;
    // A ready process outside the pool is a conversation's (or one just taken for a turn).
    else if (p.state === 'ready') counts[inPool.has(p) ? 'warm' : 'live-idle']++;
  }
  return counts;
}
