// Watches the gateway for operators: every HTTP request (middleware) and every turn and warm-pool take
// (engine events) feed the Prometheus metrics, the dashboard's live turns, its last-hour timeline and
// the ring of recent turn errors. Turn events are tied to their request through the request scope
// (the engine runs a request's turn inside it), which gives the key name, route and request id.
import type { MiddlewareHandler } from 'hono';
import type { AuthStatus } from '../auth/status.js';
import type { Engine } from '../engine/engine.js';
import type { EngineEvents, TurnEnd, TurnStart } from '../engine/events.js';
import { requestScope } from '../http/request-scope.js';
import { requestIdOf } from '../http/respond.js';
import { GatewayMetrics, type LoginView } from './metrics.js';
import { RecentErrors } from './recent-errors.js';
import { keyNameOf, routeLabel } from './request-labels.js';
import { Timeline } from './timeline.js';

export interface LiveTurn {
  id: string;
  model: string;
  path: string;
  key: string;
  route: string;
  requestId?: string;
  startedAt: number;
  queueMs: number;
  toolResults: boolean;
}

export interface ObserverDeps {
  engine: Engine;
  /** The Claude login's status (AuthService.status); absent without an auth layer. */
  authStatus?: () => AuthStatus;
  /** A turn older than this is no longer listed as live even if its end was never seen. */
  turnTimeoutMs: number;
}

/** The request a turn belongs to: what the turn's metrics are labelled with. */
interface RequestTag {
  model?: string;
}

export class GatewayObserver {
  readonly metrics: GatewayMetrics;
  readonly errors = new RecentErrors(50);
  readonly timeline = new Timeline(60);
  private readonly live = new Map<string, LiveTurn>();
  private readonly tags = new WeakMap<Request, RequestTag>();
  private readonly unlisten: () => void;
  private loginCache: { at: number; status: AuthStatus & LoginView } | undefined;

  constructor(private readonly deps: ObserverDeps) {
    const { engine } = deps;
    this.metrics = new GatewayMetrics({
      processStates: () => engine.processStates(),
      load: () => {
        const s = engine.stats();
        return {
          running: s.turns_running,
          queued: s.requests_queued,
          parked: s.turns_parked_for_tools,
          maxConcurrency: s.max_concurrency,
          conversationsLive: s.conversations_live,
          idleMemoryBytes: s.idle_memory_bytes,
        };
      },
      login: () => this.login(),
    });
    const listener: EngineEvents = {
      warmTake: (how) => this.metrics.warmTakes.inc({ outcome: how }),
      turnStart: (t) => this.turnStart(t),
      turnEnd: (t, end) => this.turnEnd(t, end),
    };
    // Every outcome and path is there from the start, so a rate over them is defined before the first turn.
    for (const outcome of ['hit', 'rewound', 'starting', 'cold']) this.metrics.warmTakes.inc({ outcome }, 0);
    for (const path of ['new', 'live', 'resumed', 'imported', 'flattened']) this.metrics.paths.inc({ path }, 0);
    this.unlisten = engine.events.listen(listener);
  }

  /** The login status, read at most once a second (it re-reads the credential sources). */
  login(): (AuthStatus & LoginView) | undefined {
    if (!this.deps.authStatus) return undefined;
    const now = Date.now();
    if (!this.loginCache || now - this.loginCache.at > 1000) this.loginCache = { at: now, status: this.deps.authStatus() };
    return this.loginCache.status;
  }

  /** Counts every request by route, model, status and key once it is answered. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const tag: RequestTag = {};
      this.tags.set(c.req.raw, tag);
      await next();
      this.metrics.requests.inc({ route: routeLabel(c), model: tag.model ?? 'none', status: String(c.res.status), key: keyNameOf(c) });
    };
  }

  private turnStart(t: TurnStart): void {
    const c = requestScope.getStore()?.c;
    if (c) {
      const tag = this.tags.get(c.req.raw);
      if (tag) tag.model = t.model;
    }
    this.live.set(t.id, {
      id: t.id,
      model: t.model,
      path: t.path,
      key: c ? keyNameOf(c) : 'none',
      route: c ? routeLabel(c) : 'unmatched',
      requestId: c ? requestIdOf(c) : undefined,
      startedAt: t.startedAt,
      queueMs: t.queueMs,
      toolResults: t.toolResults,
    });
    this.metrics.paths.inc({ path: t.path });
    this.metrics.queueWait.observe({ model: t.model }, t.queueMs / 1000);
  }

  private turnEnd(t: TurnStart, end: TurnEnd): void {
    const info = this.live.get(t.id);
    this.live.delete(t.id);
    const key = info?.key ?? 'none';
    const model = t.model;
    const m = this.metrics;
    m.turns.inc({ model, path: t.path, outcome: end.outcome, key });
    if (end.ttftMs !== undefined) m.ttft.observe({ model }, end.ttftMs / 1000);
    m.duration.observe({ model }, end.totalMs / 1000);
    const u = end.usage;
    m.tokens.inc({ model, key, type: 'input' }, u.inputTokens);
    m.tokens.inc({ model, key, type: 'output' }, u.outputTokens);
    m.tokens.inc({ model, key, type: 'cache_read' }, u.cacheReadTokens);
    m.tokens.inc({ model, key, type: 'cache_write' }, u.cacheCreationTokens);
    if (end.costUsd) m.cost.inc({ model, key }, end.costUsd);
    if (end.error) {
      m.upstreamErrors.inc({ kind: end.error.kind, code: end.error.extra.code ?? '' });
      this.errors.add({
        at: new Date().toISOString(),
        request_id: info?.requestId,
        route: info?.route,
        key,
        model,
        kind: end.error.kind,
        code: end.error.extra.code,
        status: end.error.status,
        message: end.error.message,
      });
    }
    this.timeline.record(Date.now(), { model, key }, {
      requests: 1,
      errors: end.error ? 1 : 0,
      input: u.inputTokens,
      output: u.outputTokens,
      cacheRead: u.cacheReadTokens,
      cacheWrite: u.cacheCreationTokens,
      costUsd: end.costUsd ?? 0,
    });
  }

  /** Turns running now, oldest first. */
  liveTurns(now = Date.now()): LiveTurn[] {
    // A turn whose end was never reported (its events were never read) must not stay listed forever.
    for (const [id, t] of this.live) if (now - t.startedAt > this.deps.turnTimeoutMs + 60_000) this.live.delete(id);
    return [...this.live.values()].sort((a, b) => a.startedAt - b.startedAt);
  }

  close(): void {
    this.unlisten();
  }
}
