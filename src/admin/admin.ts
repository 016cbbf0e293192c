// Who a request is (the admin, or an app key with its limits) and the meter its turns report to.
// The admin key is the gateway's configured or generated key; app keys are made with it.
import type { Context } from 'hono';
import { keyMatches } from '../config/api-key.js';
import type { ConversationStore } from '../conversations/stores/store.js';
import type { TurnMeter, TurnSummary } from '../engine/types.js';
import type { Logger } from '../log.js';
import { AppKeys, type AppKey, type KeyState } from './app-keys.js';
import { admit, modelAllowed } from './limits.js';
import { dayOf, monthOf } from './periods.js';
import { ADMIN_KEY_ID, UsageBook, type UsageCounts } from './usage.js';

export type Caller = { kind: 'admin'; id: typeof ADMIN_KEY_ID; name: string } | { kind: 'app'; id: string; name: string; key: AppKey };

declare module 'hono' {
  interface ContextVariableMap {
    /** Who the key check let in (callerOf). */
    caller: Caller;
  }
}

export const ADMIN_CALLER: Caller = { kind: 'admin', id: ADMIN_KEY_ID, name: 'admin' };

/** The model APIs: the only paths an app key may call. */
export function isModelApiPath(path: string): boolean {
  return /^\/v1\/(chat\/completions|responses|messages|models)(\/|$)/.test(path);
}

/** The dialect a model API path speaks, as usage names it. */
export function dialectOfPath(path: string): string {
  if (path.startsWith('/v1/chat/')) return 'openai-chat';
  if (path.startsWith('/v1/responses')) return 'responses';
  if (path.startsWith('/v1/messages')) return 'anthropic';
  return 'other';
}

export interface AppKeyWithUsage extends AppKey {
  usage: { today: UsageCounts; month: UsageCounts };
}

export interface AdminDeps {
  store: ConversationStore;
  log: Logger;
  /** The admin keys (GATEWAY_API_KEY, or the generated one). */
  adminKeys: string[];
  usageRetentionDays: number;
}

export class Admin {
  readonly keys: AppKeys;
  readonly usage: UsageBook;
  /** Usage records still being written, per key: a key's next turn waits for them before its
   * limits are checked, so a turn that just ended is counted (on this replica; others see it once written). */
  private readonly writing = new Map<string, Set<Promise<void>>>();

  constructor(private readonly deps: AdminDeps) {
    this.keys = new AppKeys(deps.store);
    this.usage = new UsageBook(deps.store, deps.usageRetentionDays * 86_400_000);
  }

  /** The caller a presented key makes, or why it makes none. */
  async identify(presented: string): Promise<{ caller: Caller } | { refused: Exclude<KeyState, { ok: true }> }> {
    if (keyMatches(presented, this.deps.adminKeys)) return { caller: ADMIN_CALLER };
    const state = await this.keys.check(presented);
    if (!state.ok) return { refused: state };
    return { caller: { kind: 'app', id: state.key.id, name: state.key.name, key: state.key } };
  }

  /** What a caller's turns report to: its limits before each turn, the usage book after. */
  meter(caller: Caller, dialect: string): TurnMeter {
    const { store, log } = this.deps;
    return {
      admit: async (model) => {
        if (caller.kind !== 'app') return;
        await Promise.all(this.writing.get(caller.id) ?? []);
        await admit(store, this.usage, caller.key, model);
      },
      ended: (summary: TurnSummary) => {
        const set = this.writing.get(caller.id) ?? new Set();
        this.writing.set(caller.id, set);
        const p = this.usage
          .record({ keyId: caller.id, keyName: caller.name }, dialect, summary)
          .catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err), key: caller.id }, 'usage could not be recorded'))
          .finally(() => {
            set.delete(p);
            if (!set.size && this.writing.get(caller.id) === set) this.writing.delete(caller.id);
          });
        set.add(p);
        return p;
      },
    };
  }

  /** Settles when every usage record begun so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()].flatMap((s) => [...s]));
  }

  async listKeys(now = Date.now()): Promise<AppKeyWithUsage[]> {
    const keys = await this.keys.list();
    return Promise.all(
      keys.map(async (k) => {
        const [today, month] = await Promise.all([this.usage.totals(k.id, dayOf(now)), this.usage.totals(k.id, monthOf(now))]);
        const { tokens: _t, ...todayCounts } = today;
        const { tokens: _m, ...monthCounts } = month;
        return { ...k, usage: { today: todayCounts, month: monthCounts } };
      }),
    );
  }
}

/** The models a caller sees listed: an app key with an allowlist sees only those it may use. */
export function visibleModels<M extends { id: string; resolved: string }>(caller: Caller | undefined, models: M[]): M[] {
  if (caller?.kind !== 'app' || !caller.key.models) return models;
  const key = caller.key;
  return models.filter((m) => modelAllowed(key, { requested: m.id, resolved: m.resolved }));
}

/** The caller the key check put on the request. */
export function callerOf(c: Context): Caller | undefined {
  return c.get('caller');
}
