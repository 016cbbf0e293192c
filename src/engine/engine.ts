// The engine runs one Claude Code turn per request and owns the CLI processes. start() waits for a
// concurrency slot, takes a (warm or new) process, sends the prompt and returns the turn, whose
// events the dialect encoders render. Ending the iteration early (client gone, stop sequence)
// kills the process; nothing outlives its turn, except a turn handed to the client for its tools,
// which is parked (parked-turns.ts) until the request with the results continues it. The run of a
// turn on its process, and how it ends, is turn-runner.ts; failover across credentials is accounts/.
import crypto from 'node:crypto';
import type { Accounts } from '../accounts/accounts.js';
import { HeldFailures, withFailover, type Attempt } from '../accounts/failover.js';
import type { GatewayConfig } from '../config/config.js';
import { asGatewayError, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CliProcess } from './cli-process.js';
import type { ConversationPlan, ConversationPort, ConversationWiring } from './conversation-port.js';
import { toMcpResult } from './client-tools.js';
import { EventHub, type TurnStart } from './events.js';
import { Limiter } from './limiter.js';
import { ModelCatalog, type ModelEntry } from './models.js';
import { ParkedTurns } from './parked-turns.js';
import { ProcessLifecycle } from './processes/lifecycle.js';
import { profileAccount, profileKey, ProcessPool } from './processes/warm-pool.js';
import { ProcessFactory, type TurnShape } from './process-factory.js';
import { countProcessStates } from './process-states.js';
import { checkToolHistory, planTools, trailingResults, type ToolPlan } from './tool-requests.js';
import { ToolSession } from './tool-session.js';
import { NEUTRAL_SYSTEM_PROMPT, shapeTurn } from './turn-shape.js';
import { TurnRunner, type Tooling } from './turn-runner.js';
import { emptyUsage, type Turn, type TurnContext, type TurnEvent, type TurnRequest } from './types.js';

const newTurnId = () => crypto.randomUUID().replace(/-/g, '');

function newTurn(id: string, model: string, events: AsyncIterable<TurnEvent>): Turn {
  return { id, model, created: Math.floor(Date.now() / 1000), events };
}

export { NEUTRAL_SYSTEM_PROMPT };

/** Told how turns end, so the auth layer keeps its status truthful without the engine knowing about it. */
export interface TurnObserver {
  onTurnSuccess?(): void;
  onUpstreamAuthFailure?(err: GatewayError): void;
}

export interface EngineDeps {
  config: GatewayConfig;
  log: Logger;
  claudePath: string;
  /** The environment the CLI's allowlisted env is taken from (process.env, or a test's). */
  baseEnv: NodeJS.ProcessEnv;
  observer?: TurnObserver;
  /**
   * Builds the conversations layer (conversations/: conversationsFor) on what the engine owns: the
   * composition root plugs it in, so the engine does not import the layer above it.
   */
  conversations: (wiring: ConversationWiring) => ConversationPort;
  /** The pool of Claude credentials (accounts/): which one each turn runs with. Absent: the one credential. */
  accounts?: Accounts;
}

export class Engine {
  readonly limiter: Limiter;
  /** What becomes of started processes between turns: spares, live conversations, the idle budget. */
  readonly lifecycle: ProcessLifecycle;
  readonly pool: ProcessPool;
  catalog: ModelCatalog | undefined;
  private readonly processes: ProcessFactory;
  /** Turns suspended while their clients run tools. */
  readonly parked: ParkedTurns;
  readonly conversations: ConversationPort;
  private draining = false;
  /** Prompt-cache tokens over every turn served (what a real account would pay less for). */
  private readonly cacheTokens = { read: 0, write: 0 };
  /** Bumped per credential switch: a turn that started under older credentials reports nothing. */
  private credentialGen = 0;
  /** Observers of turns and the warm pool (metrics, the dashboard). */
  readonly events: EventHub;
  private readonly runner: TurnRunner;

  constructor(private readonly deps: EngineDeps) {
    const c = deps.config;
    this.events = new EventHub(deps.log);
    this.limiter = new Limiter(c.maxConcurrency, c.maxQueue, c.queueTimeoutMs, () => c.fallbackRetryAfterSec);
    this.lifecycle = new ProcessLifecycle({
      warmPerProfile: c.warmPerProfile,
      // Reused processes come back to the pool (GATEWAY_REUSE_PROCESSES): spares need not grow beside them.
      warmMaxPerProfile: c.reuseProcesses ? c.warmPerProfile : c.warmMaxPerProfile,
      warmProfiles: c.warmProfiles,
      warmIdleMs: c.warmIdleMs,
      maxIdlePerProfile: c.maxConcurrency,
      conversationIdleMs: c.reuseProcesses ? 0 : c.conversationIdleMs,
      budgetBytes: c.idleMemoryMb * 1024 * 1024,
      spareNice: c.spareNice,
      rewindOneShots: c.rewindOneShots && !c.reuseProcesses,
      maxTurnsPerProcess: c.maxTurnsPerProcess,
      log: deps.log,
      onTake: (how) => this.events.emit((l) => l.warmTake?.(how)),
    });
    this.pool = this.lifecycle.warm;
    this.events.listen({ turnStart: () => this.lifecycle.turnStarted(), turnEnd: () => this.lifecycle.turnEnded() });
    this.processes = new ProcessFactory(deps);
    this.parked = new ParkedTurns(c.maxParkedTurns, c.toolResultTimeoutMs, deps.log);
    this.conversations = deps.conversations({
      live: this.lifecycle.live,
      cwd: this.processes.sharedCwd ?? c.cliWorkDir,
      spawnForCapture: (model, endpoint) => this.processes.spawn({ model, system: NEUTRAL_SYSTEM_PROMPT }, undefined, endpoint),
    });
    this.processes.newTap = () => this.conversations.newTap();
    this.runner = new TurnRunner({
      config: c,
      log: deps.log,
      accounts: deps.accounts,
      conversations: this.conversations,
      parked: this.parked,
      pool: this.pool,
      events: this.events,
      cacheTokens: this.cacheTokens,
      catalog: () => this.catalog,
      credentialGen: () => this.credentialGen,
      isDraining: () => this.draining,
      observe: (gen, account, call) => this.observe(gen, account, call),
    });
    const accounts = deps.accounts;
    if (accounts) {
      this.processes.accountEnv = (name) => accounts.envOf(name);
      accounts.liveCount = (name) => this.conversations.live.countBy(name);
    }
  }

  /** Read the model catalog from the CLI; fails if the CLI cannot start. Then warm the default shape. */
  async init(): Promise<void> {
    const proc = this.processes.spawn({ model: 'default', system: NEUTRAL_SYSTEM_PROMPT });
    try {
      await proc.ready;
      this.catalog = new ModelCatalog(await proc.supportedModels(), this.deps.config.modelAliases);
    } finally {
      await proc.kill();
    }
  }

  setCredentialEnv(env: Record<string, string>): void {
    this.processes.credentialEnv = env;
    this.credentialGen++;
    // The default member's processes run under the old credentials; their next turns resume under the new ones.
    void this.dropAccount('default');
  }

  /** Stop the idle processes of one pool member (removed, disabled or logged in again). */
  async dropAccount(name: string): Promise<void> {
    await this.lifecycle.resetWhere((account) => (account ?? 'default') === name, profileAccount);
  }

  /** Prestart a process for the most common request shape (a model with no system prompt). */
  prewarm(model: string): void {
    const entry = this.resolveModel(model);
    const shape: TurnShape = { model: entry.cliModel, system: NEUTRAL_SYSTEM_PROMPT };
    let account: string | undefined;
    try {
      account = this.deps.accounts?.pick();
    } catch {
      return; // every credential is limited: nothing to warm for now
    }
    this.pool.prewarm(profileKey(JSON.stringify(shape), account), () => this.processes.spawn(shape, undefined, undefined, account));
  }

  resolveModel(name: string): ModelEntry {
    if (!this.catalog) throw new GatewayError('unavailable', 'The gateway is starting.');
    return this.catalog.resolve(name);
  }

  /** Runs before a turn is planned (cluster/affinity.ts: may answer it on another replica by throwing ResponseInstead). */
  beforeTurn: ((req: TurnRequest, ctx: TurnContext) => Promise<void>) | undefined;

  async start(req: TurnRequest, signal: AbortSignal, ctx: TurnContext = {}): Promise<Turn> {
    if (this.beforeTurn) await this.beforeTurn(req, ctx);
    try {
      return await this.begin(req, signal, ctx);
    } catch (e) {
      // Refused or failed before it ran (limits, the queue, an unknown model): still a request of its key.
      // A model name that resolves to nothing is not repeated into the books (it could be anything).
      void ctx.meter?.ended({ model: this.catalog?.get(req.model)?.resolved ?? '(unknown)', status: signal.aborted ? 499 : asGatewayError(e).status, usage: emptyUsage(), costUsd: 0, durationMs: 0 });
      throw e;
    }
  }

  private async begin(req: TurnRequest, signal: AbortSignal, ctx: TurnContext): Promise<Turn> {
    if (this.draining) throw new GatewayError('unavailable', 'The gateway is shutting down; retry on another instance.', { retryAfterSec: 5 });
    const model = this.resolveModel(req.model);
    await ctx.meter?.admit({ requested: req.model, resolved: model.resolved });
    const plan = planTools(req);
    checkToolHistory(req.messages, (id) => this.parked.has(id));
    const { shape, shapeKey, conversationKey } = shapeTurn(req, model, plan.tools);
    const input = { owner: ctx.owner ?? 'anonymous', conversationKey, shapeKey, messages: req.messages, model: model.resolved, clientTools: !!plan.tools };
    const resumed = plan.tools ? await this.resume(req, plan, shapeKey, signal, ctx, () => this.conversations.continuing(input)) : undefined;
    if (resumed) return resumed;
    const id = newTurnId();
    // A failed attempt that failover runs again is not booked: only what the client is finally told.
    const meter = ctx.meter && new HeldFailures(ctx.meter);
    const attempt = async (tried: Set<string>): Promise<Attempt> => {
      const accounts = this.deps.accounts;
      const pickAccount = accounts && ((preferred: string | undefined) => accounts.pick(preferred, tried, ctx.account));
      const conversation = await this.conversations.plan({ ...input, pickAccount });
      const { account } = conversation;
      const queuedAt = Date.now();
      let release: () => void;
      let proc: CliProcess;
      try {
        release = await this.limiter.acquire(signal);
      } catch (e) {
        this.conversations.giveBack(conversation, shapeKey);
        throw e;
      }
      const queueMs = Date.now() - queuedAt;
      try {
        const spawn = () => this.processes.spawn(shape, conversation.resume, undefined, account);
        proc = conversation.live ?? (conversation.resume ? spawn() : await this.lifecycle.forNew(profileKey(shapeKey, account), shapeKey, account, spawn, !plan.tools));
      } catch (e) {
        release();
        throw e;
      }
      const tooling = this.tooling(proc, plan, shapeKey, model.resolved);
      const gen = this.credentialGen;
      const started = this.started(id, model.resolved, conversation, queueMs, false);
      return { account, events: this.runner.run({ proc, prompt: conversation.prompt, req, signal, release, queueMs, gen, tooling, shapeKey, conversation, streaming: ctx.streaming, started, meter, account }) };
    };
    const first = await attempt(new Set());
    // A turn pinned to one credential (verifying it) is not moved.
    const events = ctx.account ? first.events : withFailover(first, attempt, signal);
    return newTurn(id, model.resolved, meter ? meter.booked(events) : events);
  }

  private tooling(proc: CliProcess, plan: ToolPlan, shapeKey: string, model: string): Tooling | undefined {
    const server = this.processes.toolServer(proc);
    if (!server) return undefined;
    server.setPolicy(plan.policy);
    return { session: new ToolSession(server), shapeKey, model };
  }

  /**
   * Continue a suspended turn with the client's tool results, in its live process, when one waits
   * for exactly these calls. Undefined when none does: the caller rebuilds from the history.
   */
  private async resume(req: TurnRequest, plan: ToolPlan, shapeKey: string, signal: AbortSignal, ctx: TurnContext, conversation: () => ConversationPlan): Promise<Turn | undefined> {
    const { results, otherParts } = trailingResults(req.messages);
    if (!results.length) return undefined;
    const parked = this.parked.claim(results.map((r) => r.callId), shapeKey);
    if (!parked) return undefined;
    // New user content beside the results cannot reach a suspended turn (only tool results can).
    if (otherParts) {
      void parked.proc.kill();
      return undefined;
    }
    const queuedAt = Date.now();
    let release: () => void;
    try {
      release = await this.limiter.acquire(signal);
    } catch (e) {
      this.parked.park({ ...parked, parkedAt: Date.now() });
      throw e;
    }
    parked.server.setPolicy(plan.policy);
    const wanted = new Set(parked.callIds);
    for (const r of results) if (wanted.has(r.callId)) parked.server.answer(r.callId, toMcpResult(r.content, r.isError));
    const tooling: Tooling = { session: new ToolSession(parked.server), shapeKey, model: parked.model, frames: parked.frames };
    const queueMs = Date.now() - queuedAt;
    const account = this.processes.accountOf(parked.proc);
    const continued = { ...conversation(), account };
    const started = this.started(newTurnId(), parked.model, continued, queueMs, true);
    return newTurn(started.id, parked.model, this.runner.run({ proc: parked.proc, prompt: [], req, signal, release, queueMs, gen: this.credentialGen, tooling, shapeKey, conversation: continued, streaming: ctx.streaming, started, meter: ctx.meter, account }));
  }

  private started(id: string, model: string, conversation: ConversationPlan, queueMs: number, toolResults: boolean): TurnStart {
    const t: TurnStart = { id, model, path: conversation.path, queueMs, startedAt: Date.now(), toolResults };
    this.events.emit((l) => l.turnStart?.(t));
    return t;
  }

  /** The auth layer's observer hears of the default credential's turns only (the pool keeps the others'). */
  private observe(gen: number, account: string | undefined, call: (o: TurnObserver) => void): void {
    const o = this.deps.observer;
    if (!o || gen !== this.credentialGen || (account ?? 'default') !== 'default') return;
    try {
      call(o);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'turn observer failed');
    }
  }

  liveProcesses(): number {
    return this.processes.live.size;
  }

  /** Every CLI process by what it is doing now (process-states.ts). */
  processStates() {
    return countProcessStates(this.processes.live, this.pool.idleProcesses());
  }

  /** CLI processes started so far (the cost process reuse saves). */
  get spawned(): number {
    return this.processes.started;
  }

  /** What an operator watches: load, queue and the processes behind them. */
  stats() {
    const c = this.deps.config;
    return {
      turns_running: this.limiter.running,
      requests_queued: this.limiter.waiting,
      max_concurrency: this.deps.config.maxConcurrency,
      cli_processes: this.processes.live.size,
      cli_processes_warm: this.pool.idleCount(),
      cli_processes_started: this.spawned,
      turns_parked_for_tools: this.parked.size,
      warm_pool_hits: this.pool.hits,
      warm_pool_misses: this.pool.misses,
      warm_pool_taken_starting: this.pool.takenStarting,
      conversations_live: this.conversations.live.size,
      conversation_paths: { ...this.conversations.paths },
      idle_memory_bytes: this.lifecycle.idleBytes(),
      idle_memory_budget_bytes: c.idleMemoryMb * 1024 * 1024,
      cache_read_tokens: this.cacheTokens.read,
      cache_write_tokens: this.cacheTokens.write,
      conversations_live_one_shot: this.conversations.live.oneShot,
      conversations_evicted: this.conversations.live.evicted,
      conversations_evicted_one_shot: this.conversations.live.evictedOneShot,
      warm_spares_evicted: this.lifecycle.sparesEvicted,
      conversations_rewound: this.lifecycle.rewound,
    };
  }

  /** Stop taking turns; give running ones until the deadline, then kill every process. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    await this.lifecycle.close();
    await this.parked.closeAll();
    const busy = () => [...this.processes.live].filter((p) => p.state === 'busy' || p.state === 'spawning');
    const until = Date.now() + deadlineMs;
    while (busy().length && Date.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(busy().map((p) => p.exited)), new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now()))))]);
      clearTimeout(timer); // else it holds the event loop open for the rest of the deadline
    }
    await Promise.all([...this.processes.live].map((p) => p.kill()));
    this.processes.tempDirs.close();
  }
}
