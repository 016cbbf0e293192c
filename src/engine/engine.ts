// The engine runs one Claude Code turn per request and owns the CLI processes. start() waits for a
// concurrency slot, takes a (warm or new) process, sends the prompt and returns the turn, whose
// events the dialect encoders render. Ending the iteration early (client gone, stop sequence)
// kills the process; nothing outlives its turn.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Options } from '@anthropic-ai/claude-agent-sdk';
import type { GatewayConfig } from '../config/config.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { allowlistedEnv, gatewayCliEnv } from './child-env.js';
import { CliProcess } from './cli-process.js';
import { FrameTranslator } from './frames.js';
import { Limiter } from './limiter.js';
import { ModelCatalog, type ModelEntry } from './models.js';
import { ProcessPool } from './pool.js';
import { renderPrompt } from './prompt.js';
import { applyStopSequences } from './stop-sequences.js';
import type { Turn, TurnEvent, TurnRequest } from './types.js';

export const NEUTRAL_SYSTEM_PROMPT = 'You are a helpful assistant. Answer the user directly.';

/** What decides how a CLI process is started; turns with equal shapes can share warm processes. */
interface TurnShape {
  model: string;
  system: string;
  effort?: string;
  thinking?: unknown;
  maxOutputTokens?: number;
  outputSchema?: unknown;
}

export interface EngineDeps {
  config: GatewayConfig;
  log: Logger;
  claudePath: string;
  /** The environment the CLI's allowlisted env is taken from (process.env, or a test's). */
  baseEnv: NodeJS.ProcessEnv;
}

export class Engine {
  readonly limiter: Limiter;
  readonly pool: ProcessPool;
  catalog: ModelCatalog | undefined;
  private readonly live = new Set<CliProcess>();
  private draining = false;
  private readonly workRoot: string;
  /** Extra env for the CLI (credentials chosen by the auth layer); replaced when the login changes. */
  private credentialEnv: Record<string, string> = {};

  constructor(private readonly deps: EngineDeps) {
    const c = deps.config;
    this.limiter = new Limiter(c.maxConcurrency, c.maxQueue, c.queueTimeoutMs, () => c.fallbackRetryAfterSec);
    this.pool = new ProcessPool({ perProfile: c.warmPerProfile, maxProfiles: c.warmProfiles, idleMs: c.warmIdleMs });
    this.workRoot = path.join(c.dataDir, 'work');
  }

  /** Read the model catalog from the CLI; fails if the CLI cannot start. Then warm the default shape. */
  async init(): Promise<void> {
    const proc = this.spawn({ model: 'default', system: NEUTRAL_SYSTEM_PROMPT });
    try {
      await proc.ready;
      this.catalog = new ModelCatalog(await proc.supportedModels(), this.deps.config.modelAliases);
    } finally {
      await proc.kill();
    }
  }

  setCredentialEnv(env: Record<string, string>): void {
    this.credentialEnv = env;
    void this.pool.reset();
  }

  /** Prestart a process for the most common request shape (a model with no system prompt). */
  prewarm(model: string): void {
    const entry = this.resolveModel(model);
    const shape: TurnShape = { model: entry.cliModel, system: NEUTRAL_SYSTEM_PROMPT };
    this.pool.prewarm(JSON.stringify(shape), () => this.spawn(shape));
  }

  resolveModel(name: string): ModelEntry {
    if (!this.catalog) throw new GatewayError('unavailable', 'The gateway is starting.');
    return this.catalog.resolve(name);
  }

  private env(shape: TurnShape): Record<string, string> {
    const env = {
      ...allowlistedEnv(this.deps.baseEnv),
      ...this.credentialEnv,
      ...this.deps.config.extraCliEnv,
      ...gatewayCliEnv(this.deps.config.cliMaxRetries),
    };
    if (shape.maxOutputTokens) env.CLAUDE_CODE_MAX_OUTPUT_TOKENS = String(shape.maxOutputTokens);
    return env;
  }

  private options(shape: TurnShape): Options {
    const builtin = this.deps.config.builtinTools;
    const o: Options = {
      model: shape.model,
      systemPrompt: shape.system,
      tools: builtin,
      allowedTools: builtin,
      // Anything not pre-approved is denied: there is nobody to ask.
      permissionMode: 'dontAsk',
      settingSources: [],
      strictMcpConfig: true,
      includePartialMessages: true,
      persistSession: false,
    };
    if (shape.effort) o.effort = shape.effort as Options['effort'];
    if (shape.thinking) o.thinking = shape.thinking as Options['thinking'];
    if (shape.outputSchema) o.outputFormat = { type: 'json_schema', schema: shape.outputSchema as Record<string, unknown> };
    return o;
  }

  private spawn(shape: TurnShape): CliProcess {
    const proc = new CliProcess({
      claudePath: this.deps.claudePath,
      workRoot: this.workRoot,
      env: this.env(shape),
      options: this.options(shape),
      log: this.deps.log,
    });
    this.live.add(proc);
    void proc.exited.then(() => this.live.delete(proc));
    return proc;
  }

  async start(req: TurnRequest, signal: AbortSignal): Promise<Turn> {
    if (this.draining) throw new GatewayError('unavailable', 'The gateway is shutting down; retry on another instance.', { retryAfterSec: 5 });
    const model = this.resolveModel(req.model);
    const prompt = renderPrompt(req.messages);
    const shape: TurnShape = {
      model: model.cliModel,
      system: req.system?.trim() ? req.system : NEUTRAL_SYSTEM_PROMPT,
      effort: req.effort,
      thinking: req.thinking,
      maxOutputTokens: req.maxOutputTokens,
      outputSchema: req.outputSchema,
    };
    const queuedAt = Date.now();
    const release = await this.limiter.acquire(signal);
    const queueMs = Date.now() - queuedAt;
    let proc: CliProcess;
    try {
      proc = this.pool.take(JSON.stringify(shape), () => this.spawn(shape));
    } catch (e) {
      release();
      throw e;
    }
    const turn: Turn = {
      id: crypto.randomUUID().replace(/-/g, ''),
      model: model.resolved,
      created: Math.floor(Date.now() / 1000),
      events: this.run(proc, prompt, req, signal, release, queueMs),
    };
    return turn;
  }

  private async *run(
    proc: CliProcess,
    prompt: ReturnType<typeof renderPrompt>,
    req: TurnRequest,
    signal: AbortSignal,
    release: () => void,
    queueMs: number,
  ): AsyncGenerator<TurnEvent> {
    const c = this.deps.config;
    const startedAt = Date.now();
    let firstTokenMs: number | undefined;
    const onAbort = () => void proc.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.kill();
    }, c.turnTimeoutMs);
    const translator = new FrameTranslator({ maxRetryWaitMs: c.maxRetryWaitMs, fallbackRetryAfterSec: c.fallbackRetryAfterSec });
    let outcome = 'error';
    try {
      try {
        await proc.ready;
      } catch {
        throw new GatewayError('cli_failure', 'Claude Code failed to start.', { code: 'cli_start_failed' });
      }
      proc.send(prompt);
      const frames = proc.frames();
      async function* translated(): AsyncGenerator<TurnEvent> {
        for (;;) {
          let next: IteratorResult<unknown>;
          try {
            next = await frames.next();
          } catch {
            next = { done: true, value: undefined };
          }
          if (next.done) break;
          const { events, finished } = translator.push(next.value as never);
          yield* events;
          if (finished) return;
        }
        if (signal.aborted) return;
        if (timedOut) throw new GatewayError('timeout', 'The turn took longer than the gateway allows.');
        throw new GatewayError('cli_failure', 'Claude Code exited before it finished the answer.', { code: 'cli_crashed' });
      }
      for await (const ev of applyStopSequences(translated(), req.stop, () => translator.usageSoFar())) {
        if (firstTokenMs === undefined && ev.type !== 'block_start') firstTokenMs = Date.now() - startedAt;
        yield ev;
        if (ev.type === 'done') {
          outcome = ev.stopReason;
          return;
        }
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) outcome = 'client_gone';
      release();
      void proc.kill();
      this.deps.log.info(
        { turn: proc.id, pid: proc.pid, queueMs, ttftMs: firstTokenMs, totalMs: Date.now() - startedAt, outcome },
        'turn finished',
      );
    }
  }

  liveProcesses(): number {
    return this.live.size;
  }

  /** Stop taking turns; give running ones until the deadline, then kill every process. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    await this.pool.close();
    const busy = () => [...this.live].filter((p) => p.state === 'busy' || p.state === 'spawning');
    const until = Date.now() + deadlineMs;
    while (busy().length && Date.now() < until) {
      await Promise.race([Promise.all(busy().map((p) => p.exited)), new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())))]);
    }
    await Promise.all([...this.live].map((p) => p.kill()));
  }
}
