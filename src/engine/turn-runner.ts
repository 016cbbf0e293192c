// One run of a Claude Code turn on its process: the prompt goes in, the CLI's frames come out as
// turn events (translated, rewritten for structured output, filtered for client tools, cut at stop
// sequences), and the end is settled: the process is kept live for its conversation, parked for the
// client's tools, recycled or killed; the turn is logged, metered and told to observers.
import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Accounts } from '../accounts/accounts.js';
import type { GatewayConfig } from '../config/config.js';
import { asGatewayError, GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { AnswerCollector } from './answer.js';
import type { CliProcess } from './cli-process.js';
import type { ConversationPlan, ConversationPort } from './conversation-port.js';
import type { EventHub, TurnStart } from './events.js';
import { FrameTranslator } from './frames.js';
import type { ModelCatalog } from './models.js';
import type { ParkedTurns } from './parked-turns.js';
import { profileKey, type ProcessPool } from './processes/warm-pool.js';
import type { AnthropicBlock } from './prompt.js';
import { applyStopSequences } from './stop-sequences.js';
import { StructuredOutputRewriter } from './structured-output.js';
import { ToolSession } from './tool-session.js';
import type { TurnEvent, TurnMeter, TurnRequest, Usage } from './types.js';
import type { TurnObserver } from './engine.js';

/** What a run needs of the engine that owns it. */
export interface RunnerHost {
  config: GatewayConfig;
  log: Logger;
  accounts?: Accounts;
  conversations: ConversationPort;
  parked: ParkedTurns;
  pool: ProcessPool;
  events: EventHub;
  cacheTokens: { read: number; write: number };
  catalog(): ModelCatalog | undefined;
  credentialGen(): number;
  isDraining(): boolean;
  observe(gen: number, account: string | undefined, call: (o: TurnObserver) => void): void;
}

/** A turn with client tools: its session, and for a resumed turn the live frames to go on reading. */
export interface Tooling {
  session: ToolSession;
  shapeKey: string;
  model: string;
  frames?: AsyncIterator<SDKMessage>;
}

/** Everything one run of a turn needs. */
export interface RunSpec {
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

export class TurnRunner {
  constructor(private readonly host: RunnerHost) {}

  async *run(spec: RunSpec): AsyncGenerator<TurnEvent> {
    const { proc, prompt, req, signal, release, queueMs, gen, tooling, conversation, account } = spec;
    const accounts = this.host.accounts;
    /** What the client was told at the end (the final event), and why the turn failed if it did. */
    let final: Extract<TurnEvent, { type: 'done' }> | undefined;
    let failure: GatewayError | undefined;
    const c = this.host.config;
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
      await spec.meter.ended({ model: tooling?.model ?? this.host.catalog()?.get(req.model)?.resolved ?? req.model, status, usage, costUsd, ttftMs: firstTokenMs, durationMs: Date.now() - startedAt });
    };
    let failedStatus: number | undefined;
    /** Set when the turn was handed to the client for tool calls: the process is parked, not killed. */
    let pausedIds: string[] | undefined;
    let handedOver = false;
    /** The turn ended cleanly and its process was handed on (live conversation or reuse). */
    let kept = false;
    let frames: AsyncIterator<SDKMessage> | undefined;
    const draining = () => this.host.isDraining();
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
          this.host.observe(gen, account, (o) => o.onTurnSuccess?.());
          accounts?.onSuccess(account);
          handedOver = ev.stopReason === 'tool_use' && pausedIds !== undefined;
          await this.host.conversations.rememberThinking(conversation, answer.message());
          // A clean end is settled before the client hears of it: the next request of this
          // conversation may come the moment it has the answer, and must find the process live.
          if (ev.stopReason === 'end_turn' && translator.endedAtResult && gen === this.host.credentialGen()) {
            kept = true;
            await this.keep(spec, turnEnd, answer);
          }
        }
        yield ev;
        if (ev.type === 'done') return;
      }
    } catch (e) {
      if (e instanceof GatewayError && e.kind === 'upstream_auth') this.host.observe(gen, account, (o) => o.onUpstreamAuthFailure?.(e));
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
        this.host.parked.park({ proc, server: tooling.session.server!, frames, callIds: pausedIds, shapeKey: tooling.shapeKey, model: tooling.model, parkedAt: Date.now() });
      } else if (kept) {
        // Handed to its conversation (live) or to process reuse when the turn ended: see keep().
      } else {
        release();
        void proc.kill();
      }
      const usage = final?.usage ?? translator.usageSoFar();
      this.host.cacheTokens.read += usage.cacheReadTokens;
      this.host.cacheTokens.write += usage.cacheCreationTokens;
      const totalMs = Date.now() - startedAt;
      const end = { outcome, wasReady, readyMs, ttftMs: firstTokenMs, totalMs, usage, costUsd: final?.costUsd, error: failure };
      this.host.events.emit((l) => l.turnEnd?.(spec.started, end));
      this.host.log.info(
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
    const reuse = this.host.config.reuseProcesses && !spec.tooling;
    if (!reuse) spec.release();
    await this.host.conversations.finish(spec.conversation, spec.proc, spec.shapeKey, turnEnd, answer.message(), !reuse);
    if (reuse) void this.recycle(spec.proc, profileKey(spec.shapeKey, spec.account)).finally(spec.release);
  }

  /** A process whose turn ran to its end: cleared and kept for the next turn of its shape, when reuse is on. */
  private async recycle(proc: CliProcess, key: string): Promise<void> {
    const c = this.host.config;
    // Reuse hands processes back through the warm pool, so it is off along with the pool.
    if (!c.reuseProcesses || !this.host.pool.enabled || this.host.isDraining() || proc.turns >= c.maxTurnsPerProcess || !(await proc.clear(10_000))) {
      void proc.kill();
      return;
    }
    this.host.pool.giveBack(key, proc);
  }
}
