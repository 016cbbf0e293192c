// The gateway's Prometheus metrics (prom-client), in a registry of its own (several gateways can run
// in one process, as in tests). Counters and histograms are fed by events (observer.ts); gauges are
// read when scraped (the engine's load and processes, the Claude login).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GaugeSources {
  /** CLI processes by state (engine/process-states.ts). */
  processStates(): Record<string, number>;
  load(): { running: number; queued: number; parked: number; maxConcurrency: number; conversationsLive: number; idleMemoryBytes: number };
  /** The Claude login as /auth/status reports it; undefined when the gateway has no auth layer. */
  login(): LoginView | undefined;
}

/** What the metrics read of /auth/status; `plan` is there once the accounts layer reports plan windows. */
export interface LoginView {
  authenticated: boolean;
  verified: boolean | null;
  method: string | null;
  plan?: PlanView | null;
  /** Every credential of the pool (accounts/), when /auth/status lists them. */
  accounts?: AccountView[];
}

type PlanView = { status?: string; windows?: Record<string, { utilization: number | null; resets_at: string | null }> };

/** What the metrics read of one pool member (accounts/accounts.ts AccountSnapshot). */
export interface AccountView {
  name: string;
  role: string;
  state: string;
  cooling_down_until: string | null;
  plan: PlanView | null;
  turns_served: number;
  live_conversations: number;
}

const ACCOUNT_STATES = ['active', 'cooling_down', 'refused', 'disabled', 'verifying'];
const unixSeconds = (iso: string | null | undefined) => {
  const at = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(at) ? Math.floor(at / 1000) : undefined;
};

const SECONDS_FAST = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const SECONDS_SLOW = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600];
const SECONDS_QUEUE = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60];

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'ccg_requests_total',
    help: 'HTTP requests answered, by route, model (none: no turn ran), HTTP status and key name',
    labelNames: ['route', 'model', 'status', 'key'] as const,
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: 'ccg_turns_total',
    help: 'Claude Code turns ended, by model, conversation path and outcome (the stop reason, tool_use, client_gone or error)',
    labelNames: ['model', 'path', 'outcome', 'key'] as const,
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'ccg_time_to_first_token_seconds',
    help: 'Time from the turn getting its slot to its first output event',
    labelNames: ['model'] as const,
    buckets: SECONDS_FAST,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'ccg_turn_duration_seconds',
    help: 'Time from the turn getting its slot to its end',
    labelNames: ['model'] as const,
    buckets: SECONDS_SLOW,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'ccg_queue_wait_seconds',
    help: 'Time a turn waited for a concurrency slot',
    labelNames: ['model'] as const,
    buckets: SECONDS_QUEUE,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'ccg_tokens_total',
    help: 'Tokens as reported to clients, by model, key name and type (input, output, cache_read, cache_write)',
    labelNames: ['model', 'key', 'type'] as const,
    registers: [this.registry],
  });
  readonly cost = new Counter({
    name: 'ccg_cost_usd_total',
    help: "Claude Code's cost estimate of the turns served, US dollars",
    labelNames: ['model', 'key'] as const,
    registers: [this.registry],
  });
  readonly warmTakes = new Counter({
    name: 'ccg_warm_pool_takes_total',
    help: 'How new conversations got their CLI process: hit (a started spare), rewound (a finished one-shot conversation\'s process rewound: no start), starting (a spare still starting: a miss), cold (none there: a miss)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly paths = new Counter({
    name: 'ccg_conversation_paths_total',
    help: 'Turns by how they reached their Claude Code session: new, live, resumed, imported, flattened',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'ccg_upstream_errors_total',
    help: 'Turns that failed, by error kind and code (upstream refusals, overload, rate limits, CLI crashes, timeouts)',
    labelNames: ['kind', 'code'] as const,
    registers: [this.registry],
  });

  constructor(sources: GaugeSources) {
    const reg = [this.registry];
    new Gauge({
      name: 'ccg_cli_processes',
      help: 'Claude Code CLI processes by state: starting, warm, busy, live-idle (a conversation waiting for its next turn), parked (waiting for client tool results)',
      labelNames: ['state'] as const,
      registers: reg,
      collect() {
        for (const [state, n] of Object.entries(sources.processStates())) this.set({ state }, n);
      },
    });
    const load = (name: string, help: string, pick: (l: ReturnType<GaugeSources['load']>) => number) =>
      new Gauge({
        name,
        help,
        registers: reg,
        collect() {
          this.set(pick(sources.load()));
        },
      });
    load('ccg_turns_running', 'Turns holding a concurrency slot now', (l) => l.running);
    load('ccg_requests_queued', 'Requests waiting for a concurrency slot now', (l) => l.queued);
    load('ccg_turns_parked', 'Turns suspended while their clients run tools', (l) => l.parked);
    load('ccg_max_concurrency', 'Turns allowed to run at once', (l) => l.maxConcurrency);
    load('ccg_conversations_live', 'Finished conversations whose process is kept for their next turn', (l) => l.conversationsLive);
    load('ccg_idle_memory_bytes', 'Memory held by idle CLI processes (warm and live conversations)', (l) => l.idleMemoryBytes);
    new Gauge({
      name: 'ccg_claude_authenticated',
      help: 'Whether the gateway has Claude credentials the upstream has not refused (1) or not (0), by login method',
      labelNames: ['method'] as const,
      registers: reg,
      collect() {
        this.reset();
        const s = sources.login();
        if (s) this.set({ method: s.method ?? 'none' }, s.authenticated ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ccg_claude_verified',
      help: 'Whether a real model call succeeded with the active credentials: 1 yes, 0 refused, -1 not tried yet',
      registers: reg,
      collect() {
        const s = sources.login();
        this.set(s?.verified === true ? 1 : s?.verified === false ? 0 : -1);
      },
    });
    new Gauge({
      name: 'ccg_claude_plan_utilization',
      help: "Utilisation (0-1) of each window of the Claude plan (5-hour, weekly ...), as the CLI last reported it for a subscription login",
      labelNames: ['window'] as const,
      registers: reg,
      collect() {
        this.reset();
        for (const [window, w] of Object.entries(sources.login()?.plan?.windows ?? {})) if (typeof w.utilization === 'number') this.set({ window }, w.utilization);
      },
    });
    new Gauge({
      name: 'ccg_claude_plan_window_reset_seconds',
      help: 'When each window of the Claude plan resets, Unix seconds',
      labelNames: ['window'] as const,
      registers: reg,
      collect() {
        this.reset();
        for (const [window, w] of Object.entries(sources.login()?.plan?.windows ?? {})) {
          const at = w.resets_at ? Date.parse(w.resets_at) : NaN;
          if (Number.isFinite(at)) this.set({ window }, Math.floor(at / 1000));
        }
      },
    });
    // Per credential of the pool: the same facts /auth/status gives, one series per member.
    const perAccount = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>, a: AccountView) => void) =>
      new Gauge({
        name,
        help,
        labelNames: ['account', ...labelNames],
        registers: reg,
        collect() {
          this.reset();
          for (const a of sources.login()?.accounts ?? []) fill(this, a);
        },
      });
    perAccount('ccg_claude_account_state', 'Each Claude credential of the pool: 1 for its current state (active, cooling_down, refused, disabled, verifying), 0 for the others', ['role', 'state'], (g, a) => {
      for (const state of ACCOUNT_STATES) g.set({ account: a.name, role: a.role, state }, a.state === state ? 1 : 0);
    });
    perAccount('ccg_claude_account_cooling_down_until_seconds', 'When a limited credential is tried again, Unix seconds (absent when it is not cooling down)', [], (g, a) => {
      const at = unixSeconds(a.cooling_down_until);
      if (at !== undefined) g.set({ account: a.name }, at);
    });
    perAccount('ccg_claude_account_turns_served', 'Turns each credential has served since the gateway started', [], (g, a) => g.set({ account: a.name }, a.turns_served));
    perAccount('ccg_claude_account_live_conversations', 'Live conversation processes running as each credential', [], (g, a) => g.set({ account: a.name }, a.live_conversations));
    perAccount('ccg_claude_account_plan_utilization', "Utilisation (0-1) of each window of each credential's Claude plan, as the CLI last reported it", ['window'], (g, a) => {
      for (const [window, w] of Object.entries(a.plan?.windows ?? {})) if (typeof w.utilization === 'number') g.set({ account: a.name, window }, w.utilization);
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ccg_' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
