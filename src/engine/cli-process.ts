// One Claude Code CLI process, driven through the Agent SDK, as an object with a lifecycle:
//   spawning -> ready (initialised, waiting for a prompt) -> busy (running a turn) -> done (exited).
// The gateway spawns the child itself (spawnClaudeCodeProcess) so it owns the pid and can kill it at
// once when a client goes away, instead of waiting out the SDK's graceful-close window.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { query, type ModelInfo, type Options, type Query, type SDKMessage, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Logger } from '../log.js';
import type { TranscriptTap } from './conversation-port.js';
import type { ProcessTempDirs } from './processes/process-tmp.js';
import { PushQueue } from './push-queue.js';
import type { AnthropicBlock } from './prompt.js';

/** parked: suspended mid-turn while the client runs its tools (see parked-turns.ts). */
export type ProcessState = 'spawning' | 'ready' | 'busy' | 'parked' | 'done';

export interface SpawnSpec {
  claudePath: string;
  /** Parent folder for per-process empty working directories. */
  workRoot: string;
  /**
   * One empty working directory all processes share, instead of one each. The CLI writes it into
   * the prompt (its environment message), so a conversation's bytes stay the same whichever
   * process serves it. Not used when built-in tools may touch files.
   */
  sharedCwd?: string;
  /** The session store this process mirrors its transcript to (conversations). */
  tap?: TranscriptTap;
  /** Where the CLI keeps its local transcript copies (its config dir), removed when it exits. */
  configDir?: string;
  env: Record<string, string>;
  /** Where the process's own TMPDIR is made (removed when it exits); without it, the env's TMPDIR. */
  tempDirs?: ProcessTempDirs;
  /** Agent SDK options for this process (model, system prompt, effort, tools ...). */
  options: Options;
  log: Logger;
}

const KILL_GRACE_MS = 500;

export class CliProcess {
  readonly id = crypto.randomUUID();
  state: ProcessState = 'spawning';
  pid: number | undefined;
  readonly createdAt = Date.now();
  /** Resolves when the CLI has initialised and waits for a prompt; rejects if it fails to start. */
  readonly ready: Promise<void>;
  /** Resolves when the child has exited (or never started). */
  readonly exited: Promise<void>;

  private readonly input = new PushQueue<SDKUserMessage>();
  private readonly query: Query;
  readonly cwd: string;
  readonly tap: TranscriptTap | undefined;
  private child: ChildProcess | undefined;
  private stderrTail = '';
  private markExited!: () => void;
  /** Told of the child's pid once it is spawned (the lifecycle sets a spare's CPU priority). */
  private spawnedHooks: ((pid: number) => void)[] = [];
  /**
   * The config dir the SDK made for a resumed session in the shared temp folder (claude-resume-*:
   * the transcript and a copy of the credentials). Removed with the process, whatever stopped it.
   */
  private resumeDir: string | undefined;
  /** This process's own TMPDIR (processes/process-tmp.ts). */
  readonly tmpDir: string | undefined;

  constructor(private readonly spec: SpawnSpec) {
    this.cwd = spec.sharedCwd ?? path.join(spec.workRoot, this.id);
    fs.mkdirSync(this.cwd, { recursive: true, mode: 0o700 });
    this.tmpDir = spec.tempDirs?.create(this.id);
    this.tap = spec.tap;
    this.blank = !spec.options.resume;
    this.exited = new Promise((r) => (this.markExited = r));
    this.query = query({
      prompt: this.input,
      options: {
        ...spec.options,
        cwd: this.cwd,
        pathToClaudeCodeExecutable: spec.claudePath,
        ...(spec.tap ? { sessionStore: spec.tap, persistSession: true } : {}),
        env: this.tmpDir ? { ...spec.env, TMPDIR: this.tmpDir } : spec.env,
        spawnClaudeCodeProcess: (o) => this.spawnChild(o),
      },
    });
    this.ready = this.query.initializationResult().then(
      () => {
        if (this.state === 'spawning') this.state = 'ready';
      },
      (err) => {
        void this.kill();
        throw err;
      },
    );
    this.ready.catch(() => {});
  }

  private spawnChild(o: { command: string; args: string[]; cwd?: string; env: Record<string, string | undefined> }) {
    const child = spawn(o.command, o.args, { cwd: o.cwd, env: o.env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.pid = child.pid;
    const configDir = o.env.CLAUDE_CONFIG_DIR;
    if (configDir && path.basename(configDir).startsWith('claude-resume-')) this.resumeDir = configDir;
    if (child.pid !== undefined) for (const hook of this.spawnedHooks.splice(0)) hook(child.pid);
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.state = 'done';
      if (code && signal == null) this.spec.log.debug({ pid: child.pid, code, stderr: this.stderrTail }, 'cli exited with an error');
      this.cleanup();
    });
    child.on('error', (err) => {
      this.spec.log.error({ err: err.message }, 'cli failed to start');
      this.state = 'done';
      this.cleanup();
    });
    return child;
  }

  /** Run `hook` with the child's pid now, or once it is spawned. */
  onSpawned(hook: (pid: number) => void): void {
    if (this.pid !== undefined) hook(this.pid);
    else if (this.alive) this.spawnedHooks.push(hook);
  }

  private cleanup(): void {
    // Synchronously: the gateway may exit right after its last process did (a SIGTERM drain).
    if (this.resumeDir) fs.rmSync(this.resumeDir, { recursive: true, force: true });
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    if (!this.spec.sharedCwd) fs.rm(this.cwd, { recursive: true, force: true }, () => {});
    // The store holds the transcripts; the CLI's local copies would only pile up.
    if (this.spec.configDir && this.tap) {
      const project = path.join(this.spec.configDir, 'projects', this.cwd.replace(/[^a-zA-Z0-9]/g, '-'));
      for (const sid of this.tap.sessions()) {
        fs.rm(path.join(project, `${sid}.jsonl`), { force: true }, () => {});
        fs.rm(path.join(project, sid), { recursive: true, force: true }, () => {});
      }
    }
    this.markExited();
  }

  /** The turn ended cleanly and the process waits for the next one (a live conversation). */
  idle(): void {
    if (this.alive) this.state = 'ready';
  }

  /** Start a turn with one user message. The frames of the turn come from frames(). */
  send(content: AnthropicBlock[]): void {
    this.state = 'busy';
    this.turns++;
    const uuid = crypto.randomUUID();
    // The first message of a conversation this process began is where a rewind goes back to.
    if (this.blank) this.opening = uuid;
    this.blank = false;
    this.input.push({ type: 'user', message: { role: 'user', content: content as any }, parent_tool_use_id: null, uuid });
  }

  /** Turns this process has served (a reused process serves several, one after another). */
  turns = 0;
  /** Times it was rewound for a new conversation (its session then holds several conversations). */
  rewinds = 0;
  /** Its session holds no message yet: started without a transcript to resume, or rewound. */
  private blank: boolean;
  /** The first user message of the conversation it holds, when that conversation began here. */
  private opening: string | undefined;

  /** Idle, and holding a conversation it began itself: rewind() can give it a new one. */
  get rewindable(): boolean {
    return this.state === 'ready' && this.opening !== undefined;
  }

  /**
   * Take a finished process back to before its conversation's first message, so it serves a new
   * conversation without a CLI start. The CLI's rewind_conversation control request (what Claude
   * Code's own "rewind" runs) cuts the session's messages at that message: the next request the API
   * gets is the one a freshly started process sends (test/rewind-one-shots.test.ts), unlike
   * /clear, which leaves its record in the next conversation. The Agent SDK has no method for it, so
   * it goes through the SDK's generic control request. False (and the caller stops the process) if
   * the CLI refused or did not answer in time.
   */
  async rewind(timeoutMs: number): Promise<boolean> {
    const target = this.opening;
    if (!this.rewindable || target === undefined) return false;
    this.state = 'busy';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    try {
      const request = (this.query as unknown as { request(r: object): Promise<{ response?: { rewound?: boolean } } | undefined> }).request;
      const answer = await Promise.race([request.call(this.query, { subtype: 'rewind_conversation', target_message_uuid: target }), timeout]);
      if (answer?.response?.rewound !== true || !this.alive) return false;
    } catch (err) {
      this.spec.log.debug({ err: (err as Error).message }, 'rewind_conversation failed');
      return false;
    } finally {
      clearTimeout(timer);
    }
    this.opening = undefined;
    this.blank = true;
    this.rewinds++;
    this.state = 'ready';
    return true;
  }

  /**
   * Make a finished process fit for another client's turn: /clear discards the conversation (the CLI
   * answers with a conversation_reset frame and a result). False when that did not happen in time;
   * the caller then kills the process instead of reusing it.
   */
  async clear(timeoutMs: number): Promise<boolean> {
    if (this.state !== 'busy') return false;
    const frames = this.frames();
    this.input.push({ type: 'user', message: { role: 'user', content: '/clear' }, parent_tool_use_id: null });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    let reset = false;
    try {
      for (;;) {
        const next = await Promise.race([frames.next(), timeout]);
        if (next === 'timeout' || next.done) return false;
        if (next.value.type === 'conversation_reset') reset = true;
        if (next.value.type === 'result') break;
      }
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
    if (!reset || !this.alive) return false;
    this.state = 'ready';
    return true;
  }

  frames(): AsyncIterator<SDKMessage> {
    return this.query[Symbol.asyncIterator]();
  }

  get alive(): boolean {
    return this.state !== 'done';
  }

  /** Stop the process now: SIGTERM, then SIGKILL if it lingers. Resolves once it has exited. */
  async kill(): Promise<void> {
    this.input.end();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.state = 'done';
      try {
        this.query.close();
      } catch {
        /* already closed */
      }
      if (!child) this.cleanup();
      return this.exited;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    try {
      this.query.close();
    } catch {
      /* already closed */
    }
    await this.exited;
    clearTimeout(timer);
  }

  /** The models this CLI offers (aliases and the ids they resolve to), read from the CLI itself. */
  supportedModels(): Promise<ModelInfo[]> {
    return this.query.supportedModels();
  }

  stderr(): string {
    return this.stderrTail;
  }
}
