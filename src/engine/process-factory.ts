// How a CLI process for a turn shape is started: its allowlisted environment (with the credentials
// the auth layer chose), its Agent SDK options, and the client-tool server it serves. Also keeps the
// set of live processes, so the engine can drain them and operators can count them.
import os from 'node:os';
import path from 'node:path';
import type { Options } from '@anthropic-ai/claude-agent-sdk';
import type { GatewayConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { allowlistedEnv, gatewayCliEnv, withoutCredentials } from './child-env.js';
import { CliProcess } from './cli-process.js';
import type { ResumeTarget, TranscriptTap } from './conversation-port.js';
import { ClientToolServer } from './client-tools.js';
import { ProcessTempDirs } from './processes/process-tmp.js';
import { clientToolOptions } from './tool-session.js';
import type { ToolDefinition } from './types.js';

/** What decides how a CLI process is started; turns with equal shapes can share warm processes. */
export interface TurnShape {
  model: string;
  system: string;
  effort?: string;
  thinking?: unknown;
  maxOutputTokens?: number;
  outputSchema?: unknown;
  /** Client tools, sorted by name (an in-process MCP server per process serves them). */
  tools?: ToolDefinition[];
}

export interface FactoryDeps {
  config: GatewayConfig;
  log: Logger;
  claudePath: string;
  baseEnv: NodeJS.ProcessEnv;
}

export class ProcessFactory {
  /** Processes that have not exited yet. */
  readonly live = new Set<CliProcess>();
  /** CLI processes started so far (the cost process reuse saves). */
  started = 0;
  private readonly toolServers = new WeakMap<CliProcess, ClientToolServer>();
  private readonly workRoot: string;
  /** Each process's own TMPDIR, under the temp folder the gateway's children would otherwise share. */
  readonly tempDirs: ProcessTempDirs;
  /** The CLI's credential variables, chosen by the auth layer. Until set, the base env's own
   * credential variables pass through unchanged. */
  credentialEnv: Record<string, string> | undefined;
  /** Set by the engine: processes mirror their transcripts through taps the conversations layer makes. */
  newTap: (() => TranscriptTap) | undefined;
  /** The credential variables of a pool member (accounts/); undefined for the default member. */
  accountEnv: ((account: string) => Record<string, string> | undefined) | undefined;
  /** The pool member each process runs as. */
  private readonly accounts = new WeakMap<CliProcess, string>();

  constructor(private readonly deps: FactoryDeps) {
    this.workRoot = path.join(deps.config.dataDir, 'work');
    this.tempDirs = new ProcessTempDirs(deps.baseEnv.TMPDIR || os.tmpdir());
    this.tempDirs.prepare(deps.log);
  }

  /** The working directory every process shares, unless built-in tools may write to it. */
  get sharedCwd(): string | undefined {
    return this.deps.config.builtinTools.length ? undefined : this.deps.config.cliWorkDir;
  }

  /**
   * Start a process for a turn shape; with `resume`, on a stored conversation at its point. With
   * `endpoint`, the process talks to that API endpoint with its placeholder key instead of the real
   * credentials (template capture: conversations/template-capture.ts). With `account`, it runs with
   * that pool member's credentials (and no other's).
   */
  spawn(shape: TurnShape, resume?: ResumeTarget, endpoint?: Record<string, string>, account?: string): CliProcess {
    this.started++;
    const toolServer = shape.tools ? new ClientToolServer(shape.tools) : undefined;
    const tap = this.newTap?.();
    const options = this.options(shape, toolServer);
    if (resume && tap) {
      tap.preload(resume.sessionId, resume.entries);
      // The preloaded branch ends at the point the turn extends: a plain resume goes on from there.
      options.resume = resume.sessionId;
    }
    const env = endpoint ? { ...withoutCredentials(this.env(shape)), ...endpoint } : this.env(shape, account);
    const proc = new CliProcess({
      claudePath: this.deps.claudePath,
      workRoot: this.workRoot,
      sharedCwd: this.sharedCwd,
      tap,
      configDir: env.CLAUDE_CONFIG_DIR,
      env,
      tempDirs: this.tempDirs,
      options,
      log: this.deps.log,
    });
    if (toolServer) this.toolServers.set(proc, toolServer);
    if (account !== undefined) this.accounts.set(proc, account);
    this.live.add(proc);
    void proc.exited.then(() => this.live.delete(proc));
    return proc;
  }

  /** The client-tool server a process serves, if its shape has tools. */
  toolServer(proc: CliProcess): ClientToolServer | undefined {
    return this.toolServers.get(proc);
  }

  /** The pool member a process runs as (undefined without a pool). */
  accountOf(proc: CliProcess): string | undefined {
    return this.accounts.get(proc);
  }

  private env(shape: TurnShape, account?: string): Record<string, string> {
    const base = allowlistedEnv(this.deps.baseEnv);
    // A pool member's own variables, and nothing of another credential's (a member gone since gets none).
    const own = account !== undefined && account !== 'default' ? (this.accountEnv?.(account) ?? {}) : undefined;
    const credentials = own ?? this.credentialEnv;
    const env = {
      ...(credentials ? withoutCredentials(base) : base),
      ...credentials,
      ...this.deps.config.extraCliEnv,
      ...gatewayCliEnv(this.deps.config.cliMaxRetries),
    };
    // The SDK mirrors transcripts from the config dir it computes in this process; the child must
    // use that same dir (its own rule gives the same place, but from the child's HOME).
    if (!env.CLAUDE_CONFIG_DIR && env.HOME) env.CLAUDE_CONFIG_DIR = path.join(env.HOME, '.claude');
    if (shape.maxOutputTokens) env.CLAUDE_CODE_MAX_OUTPUT_TOKENS = String(shape.maxOutputTokens);
    // The model must see the client's tool results whole, not truncated at the CLI's MCP default (25k tokens).
    if (shape.tools) env.MAX_MCP_OUTPUT_TOKENS = '1000000';
    return env;
  }

  private options(shape: TurnShape, toolServer?: ClientToolServer): Options {
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
      // Without a session store nothing is kept; with one, the CLI writes its transcript (the
      // store's mirror needs the local write) and the process removes it when it exits.
      persistSession: !!this.newTap,
    };
    // Loading the slash commands is start-up CPU a gateway never uses (measured: 0.80 -> 0.75 s per
    // start, the API request unchanged). Kept where it could matter: process reuse sends /clear, and
    // built-in tools may list skills.
    if (!this.deps.config.reuseProcesses && !builtin.length) o.extraArgs = { 'disable-slash-commands': null };
    if (shape.effort) o.effort = shape.effort as Options['effort'];
    if (shape.thinking) o.thinking = shape.thinking as Options['thinking'];
    if (shape.outputSchema) o.outputFormat = { type: 'json_schema', schema: shape.outputSchema as Record<string, unknown> };
    // The CLI's own MCP call timeout must outlast the gateway's wait for the client's results.
    if (toolServer) Object.assign(o, clientToolOptions(toolServer, this.deps.config.toolResultTimeoutMs + 60_000));
    return o;
  }
}
