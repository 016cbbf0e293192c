// The engine runs one Claude Code turn per request and owns the CLI processes. start() waits for a
// concurrency slot, takes a (warm or new) process, sends the prompt and returns the turn, whose
// events the dialect encoders render. Ending the iteration early (client gone, stop sequence)
// kills the process; nothing outlives its turn, except a turn handed to the client for its tools,
// which is parked (parked-turns.ts) until the request with the results continues it.
import crypto from 'node:crypto';
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Accounts } from '../accounts/accounts.js';
import { HeldFailures, withFailover, type Attempt } from '../accounts/failover.js';
import type { GatewayConfig } from '../config/config.js';
import { AnswerCollector } from '../conversations/answer.js';
import { Conversations, type ConversationPlan } from '../conversations/conversations.js';
import type { ConversationStore } from '../conversations/stores/store.js';
import { captureTemplate } from '../conversations/template-capture.js';
import { asGatewayError, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CliProcess } from './cli-process.js';
import { toMcpResult } from './client-tools.js';
import { EventHub, type TurnStart } from './events.js';
import { FrameTranslator } from './frames.js';
import { Limiter } from './limiter.js';
import { ModelCatalog, type ModelEntry } from './models.js';
import { ParkedTurns } from './parked-turns.js';
import { profileAccount, profileKey, ProcessPool } from './pool.js';
import { ProcessFactory, type TurnShape } from './process-factory.js';
import { countProcessStates } from './process-states.js';
import type { AnthropicBlock } from './prompt.js';
import { applyStopSequences } from './stop-sequences.js';
import { StructuredOutputRewriter } from './structured-output.js';
import { checkToolHistory, planTools, trailingResults, type ToolPlan } from './tool-requests.js';
import { ToolSession } from './tool-session.js';
import { NEUTRAL_SYSTEM_PROMPT, shapeTurn } from './turn-shape.js';
import { emptyUsage, type Turn, type TurnContext, type TurnEvent, type TurnMeter, type TurnRequest, type Usage } from './types.js';

/** A turn with client tools: its session, and for a resumed turn the live frames to go on reading. */
interface Tooling {
  session: ToolSession;
  shapeKey: string;
  model: string;
  frames?: AsyncIterator<SDKMessage>;
}

/** Everything one run of a turn needs. */
interface RunSpec {
  proc: CliProcess;
  prompt: AnthropicBlock[];
  req: TurnRequest;
  signal: AbortSignal;
  release: () => void;
  queueMs: number;
  gen: number;
  tooling?: Tooling;
  /** The process's turn shape (a live conversation or a reused process serves only its own). */
  shapeKey: string;
  conversation: ConversationPlan;
  /** False when the client gets the answer whole (not streamed). */
  streaming?: boolean;
  /** What observers were told when the turn started (events.ts). */
  started: TurnStart;
  meter?: TurnMeter;
  /** The pool member (Claude credential) the process runs as. */
  account?: string;
}

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
  /** Where conversations live (transcripts and points). */
  store: ConversationStore;
  cliVersion: string;
  /** The pool of Claude credentials (accounts/): which one each turn runs with. Absent: the one credential. */
  accounts?: Accounts;
}

export class Engine {
  readonly limiter: Limiter;
  readonly pool: ProcessPool;
  catalog: ModelCatalog | undefined;
  private readonly processes: ProcessFactory;
  /** Turns suspended while their clients run tools. */
  readonly parked: ParkedTurns;
  readonly conversations: Conversations;
  private draining = false;
  /** Prompt-cache tokens over every turn served (what a real account would pay less for). */
  private readonly cacheTokens = { read: 0, write: 0 };
  /** Bumped per credential switch: a turn that started under older credentials reports nothing. */
  private credentialGen = 0;
  /** Observers of turns and the warm pool (metrics, the dashboard). */
  readonly events: EventHub;

  constructor(private readonly deps: EngineDeps) {
    const c = deps.config;
    this.events = new EventHub(deps.log);
    this.limiter = new Limiter(c.maxConcurrency, c.maxQueue, c.queueTimeoutMs, () => c.fallbackRetryAfterSec);
    this.pool = new ProcessPool({ perProfile: c.warmPerProfile, maxProfiles: c.warmProfiles, idleMs: c.warmIdleMs, maxIdlePerProfile: c.maxConcurrency, onTake: (how) => this.events.emit((l) => l.warmTake?.(how)) });
    this.processes = new ProcessFactory(deps);
    this.parked = new ParkedTurns(c.maxParkedTurns, c.toolResultTimeoutMs, deps.log);
    this.conversations = new Conversations({
      store: deps.store,
      cwd: this.processes.sharedCwd ?? c.cliWorkDir,
      cliVersion: deps.cliVersion,
      log: deps.log,
      live: { idleMs: c.reuseProcesses ? 0 : c.conversationIdleMs, budgetBytes: c.idleMemoryMb * 1024 * 1024, pool: this.pool },
      captureTemplate: (model) => captureTemplate((endpoint) => this.processes.spawn({ model, system: NEUTRAL_SYSTEM_PROMPT }, undefined, endpoint)),
    });
    this.processes.sessions = this.conversations.shared;
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
    const mine = (account: string | undefined) => (account ?? 'default') === name;
    await Promise.all([this.pool.resetWhere((key) => mine(profileAccount(key))), this.conversations.live.resetWhere((c) => mine(c.account))]);
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

  async start(req: TurnRequest, signal: AbortSignal, ctx: TurnContext = {}): Promise<Turn> {
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
        proc = conversation.live ?? (conversation.resume ? spawn() : this.pool.take(profileKey(shapeKey, account), spawn));
      } catch (e) {
        release();
        throw e;
      }
      const tooling = this.tooling(proc, plan, shapeKey, model.resolved);
      const gen = this.credentialGen;
      const started = this.started(id, model.resolved, conversation, queueMs, false);
      return { account, events: this.run({ proc, prompt: conversation.prompt, req, signal, release, queueMs, gen, tooling, shapeKey, conversation, streaming: ctx.streaming, started, meter, account }) };
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
    return newTurn(started.id, parked.model, this.run({ proc: parked.proc, prompt: [], req, signal, release, queueMs, gen: this.credentialGen, tooling, shapeKey, conversation: continued, streaming: ctx.streaming, started, meter: ctx.meter, account }));
  }

  private async *run(spec: RunSpec): AsyncGenerator<TurnEvent> {
    const { proc, prompt, req, signal, release, queueMs, gen, tooling, conversation, account } = spec;
    const accounts = this.deps.accounts;
    /** What the client was told at the end (the final event), and why the turn failed if it did. */
    let final: Extract<TurnEvent, { type: 'done' }> | undefined;
    let failure: GatewayError | undefined;
    const c = this.deps.config;
    const answer = new AnswerCollector();
    /** The session the CLI runs, and the uuid of the last transcript entry it reported. */
    const turnEnd: { sessionId?: string; lastEntry?: string } = {};
    const startedAt = Date.now();
    /** Whether the process had finished starting when the turn got it (a warm hit, truly). */
    const wasReady = proc.state === 'ready';
    let readyMs: number | undefined;
    let firstTokenMs: number | undefined;
    const onAbort = () => void proc.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.kill();
    }, c.turnTimeoutMs);
    const translator = new FrameTranslator({ maxRetryWaitMs: c.maxRetryWaitMs, fallbackRetryAfterSec: c.fallbackRetryAfterSec, wholeMessages: spec.streaming === false });
    const structured = req.outputSchema ? new StructuredOutputRewriter() : undefined;
    // Client tool calls reach the client under their own names; tool calls the CLI runs itself do not.
    const session = tooling?.session ?? new ToolSession();
    let outcome = 'error';
    /** Reported to the key's meter once, with what the client was told (the final event's usage). */
    let metered = false;
    const meter = async (status: number, usage: Usage, costUsd: number) => {
      if (metered || !spec.meter) return;
      metered = true;
      await spec.meter.ended({ model: tooling?.model ?? this.catalog?.get(req.model)?.resolved ?? req.model, status, usage, costUsd, ttftMs: firstTokenMs, durationMs: Date.now() - startedAt });
    };
    let failedStatus: number | undefined;
    /** Set when the turn was handed to the client for tool calls: the process is parked, not killed. */
    let pausedIds: string[] | undefined;
    let handedOver = false;
    /** The turn ended cleanly and its process was handed on (live conversation or reuse). */
    let kept = false;
    let frames: AsyncIterator<SDKMessage> | undefined;
    const draining = () => this.draining;
    try {
      try {
        await proc.ready;
        readyMs = Date.now() - startedAt;
      } catch {
        throw new GatewayError('cli_failure', 'Claude Code failed to start.', { code: 'cli_start_failed' });
      }
      // A resumed turn goes on reading its live frames; the client's results were already handed over.
      const it = (frames = tooling?.frames ?? (proc.send(prompt), proc.frames()));
      async function* translated(): AsyncGenerator<TurnEvent> {
        for (;;) {
          let next: IteratorResult<unknown>;
          try {
            next = await it.next();
          } catch {
            next = { done: true, value: undefined };
          }
          if (next.done) break;
          const f = next.value as { type?: string; session_id?: string; uuid?: string; rate_limit_info?: unknown };
          if (f.type === 'rate_limit_event') accounts?.onRateLimit(account, f.rate_limit_info);
          turnEnd.sessionId = f.session_id ?? turnEnd.sessionId;
          if (f.type === 'assistant' || f.type === 'user') turnEnd.lastEntry = f.uuid ?? turnEnd.lastEntry;
          const { events, finished } = translator.push(next.value as never);
          const rewritten = structured ? structured.rewrite(next.value, events) : events;
          const step = session.filter(next.value, rewritten);
          // The usage on a resumed turn's result frame covers every round of the CLI turn; this
          // response reports only what it streamed.
          yield* tooling?.frames ? step.events.map((ev) => (ev.type === 'done' ? { ...ev, usage: translator.usageSoFar() } : ev)) : step.events;
          if (finished) return;
          if (step.pause) {
            pausedIds = tooling!.session.paused();
            yield { type: 'done', stopReason: 'tool_use', stopSequence: null, usage: translator.usageSoFar(), costUsd: 0 };
            return;
          }
        }
        if (signal.aborted) return;
        if (timedOut) throw new GatewayError('timeout', 'The turn took longer than the gateway allows.');
        if (draining()) throw new GatewayError('unavailable', 'The gateway is shutting down and cut this answer short; retry the request.', { code: 'server_shutting_down', retryAfterSec: 5 });
        throw new GatewayError('cli_failure', 'Claude Code exited before it finished the answer.', { code: 'cli_crashed' });
      }
      for await (const ev of applyStopSequences(translated(), req.stop, () => translator.usageSoFar())) {
        if (firstTokenMs === undefined && ev.type !== 'block_start' && ev.type !== 'usage') firstTokenMs = Date.now() - startedAt;
        answer.push(ev);
        // Before the yield: a consumer may stop iterating once it has the final event.
        if (ev.type === 'done') {
          // Set before the yield: a consumer that stops at the final event closes this generator there.
          outcome = ev.stopReason;
          final = ev;
          // Booked before the client hears of the end: its next request, on any replica, finds them counted.
          await meter(200, ev.usage, ev.costUsd);
          this.observe(gen, account, (o) => o.onTurnSuccess?.());
          accounts?.onSuccess(account);
          handedOver = ev.stopReason === 'tool_use' && pausedIds !== undefined;
          await this.conversations.rememberThinking(conversation, answer.message());
          // A clean end is settled before the client hears of it: the next request of this
          // conversation may come the moment it has the answer, and must find the process live.
          if (ev.stopReason === 'end_turn' && translator.endedAtResult && gen === this.credentialGen) {
            kept = true;
            await this.keep(spec, turnEnd, answer);
          }
        }
        yield ev;
        if (ev.type === 'done') return;
      }
    } catch (e) {
      if (e instanceof GatewayError && e.kind === 'upstream_auth') this.observe(gen, account, (o) => o.onUpstreamAuthFailure?.(e));
      accounts?.onFailure(account, e);
      failure = asGatewayError(e);
      failedStatus = failure.status;
      throw e;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) outcome = 'client_gone';
      else if (handedOver) outcome = 'tool_use';
      // Suspended for the client's tools: parked without its slot until the results come.
      if (handedOver && tooling && frames && pausedIds && !signal.aborted && !timedOut) {
        release();
        this.parked.park({ proc, server: tooling.session.server!, frames, callIds: pausedIds, shapeKey: tooling.shapeKey, model: tooling.model, parkedAt: Date.now() });
      } else if (kept) {
        // Handed to its conversation (live) or to process reuse when the turn ended: see keep().
      } else {
        release();
        void proc.kill();
      }
      const usage = final?.usage ?? translator.usageSoFar();
      this.cacheTokens.read += usage.cacheReadTokens;
      this.cacheTokens.write += usage.cacheCreationTokens;
      const totalMs = Date.now() - startedAt;
      const end = { outcome, wasReady, readyMs, ttftMs: firstTokenMs, totalMs, usage, costUsd: final?.costUsd, error: failure };
      this.events.emit((l) => l.turnEnd?.(spec.started, end));
      this.deps.log.info(
        {
          turn: proc.id,
          pid: proc.pid,
          path: conversation.path,
          account,
          queueMs,
          wasReady,
          readyMs,
          ttftMs: firstTokenMs,
          totalMs,
          outcome,
          cacheRead: usage.cacheReadTokens,
          cacheWrite: usage.cacheCreationTokens,
          input: usage.inputTokens,
          tools: tooling && (tooling.frames ? 'resumed' : 'started'),
        },
        'turn finished',
      );
      void meter(signal.aborted ? 499 : (failedStatus ?? 502), usage, 0);
    }
  }

  /**
   * A turn that ended cleanly: its conversation point is recorded and the process stays live for the
   * next turn, or (process reuse, opted into) is cleared for another conversation while the slot is
   * held, so the request that takes the slot next finds it back in the pool.
   */
  private async keep(spec: RunSpec, turnEnd: { sessionId?: string; lastEntry?: string }, answer: AnswerCollector): Promise<void> {
    const reuse = this.deps.config.reuseProcesses && !spec.tooling;
    if (!reuse) spec.release();
    await this.conversations.finish(spec.conversation, spec.proc, spec.shapeKey, turnEnd, answer.message(), !reuse);
    if (reuse) void this.recycle(spec.proc, profileKey(spec.shapeKey, spec.account)).finally(spec.release);
  }

  /** A process whose turn ran to its end: cleared and kept for the next turn of its shape, when reuse is on. */
  private async recycle(proc: CliProcess, key: string): Promise<void> {
    const c = this.deps.config;
    // Reuse hands processes back through the warm pool, so it is off along with the pool.
    if (!c.reuseProcesses || !this.pool.enabled || this.draining || proc.turns >= c.maxTurnsPerProcess || !(await proc.clear(10_000))) {
      void proc.kill();
      return;
    }
    this.pool.giveBack(key, proc);
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
      idle_memory_bytes: this.conversations.live.idleBytes(),
      idle_memory_budget_bytes: c.idleMemoryMb * 1024 * 1024,
      cache_read_tokens: this.cacheTokens.read,
      cache_write_tokens: this.cacheTokens.write,
    };
  }

  /** Stop taking turns; give running ones until the deadline, then kill every process. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    await this.pool.close();
    await this.conversations.close();
    await this.parked.closeAll();
    const busy = () => [...this.processes.live].filter((p) => p.state === 'busy' || p.state === 'spawning');
    const until = Date.now() + deadlineMs;
    while (busy().length && Date.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(busy().map((p) => p.exited)), new Promise((r) => (timer = setTimeout(r, Math.max(0, until - Date.now()))))]);
      clearTimeout(timer); // else it holds the event loop open for the rest of the deadline
    }
    await Promise.all([...this.processes.live].map((p) => p.kill()));
  }
}
