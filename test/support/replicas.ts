// Gateway replicas as operators run them: `claude-code-gateway serve` processes, each with its own data
// dir and port, on one shared redis-server, against one scripted upstream. A replica can be stopped
// (SIGTERM, the drain), killed (SIGKILL) and started again on the same port and data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_KEY, TEST_SECRET } from './harness.js';
import { freePort } from './redis.js';
import { spawnServe } from './serve.js';

export interface ServeOptions {
  redisUrl: string;
  upstreamUrl: string;
  /** More environment (GATEWAY_DRAIN_DELAY_MS, credentials...). */
  env?: NodeJS.ProcessEnv;
  /** Leave ANTHROPIC_API_KEY unset (the login comes from the shared store). */
  noUpstreamKey?: boolean;
}

export class ServeReplica {
  child: ChildProcess | undefined;
  url = '';
  /** stdout and stderr so far (for failure messages). */
  output: () => string = () => '';
  private exited: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    private readonly opts: ServeOptions,
  ) {}

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.dataDir,
      GATEWAY_PORT: String(this.port),
      GATEWAY_DATA_DIR: this.dataDir,
      GATEWAY_API_KEY: TEST_KEY,
      GATEWAY_REDIS_URL: this.opts.redisUrl,
      GATEWAY_SECRET_KEY: TEST_SECRET,
      GATEWAY_LOG_LEVEL: process.env.TEST_LOG ?? 'warn',
      GATEWAY_PREWARM_MODELS: '',
      GATEWAY_CLI_MAX_RETRIES: '0',
      ANTHROPIC_BASE_URL: this.opts.upstreamUrl,
      ...(this.opts.noUpstreamKey ? {} : { ANTHROPIC_API_KEY: 'sk-ant-test-upstream' }),
      ...this.opts.env,
    };
  }

  /** Starts `serve` and resolves once it listens. */
  async start(): Promise<void> {
    const s = spawnServe(this.env(), /Anthropic base URL:\s+(\S+)/);
    this.child = s.child;
    this.exited = s.exited;
    this.output = () => s.output();
    this.url = await s.url.catch((e: Error) => {
      throw new Error(`${this.name}: ${e.message}`);
    });
  }

  /** SIGTERM: the drain; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A command of the same gateway (login, accounts...) with this replica's environment. */
  async command(args: string[], stdin?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(stdin ?? '');
    const status = await new Promise<number | null>((r) => child.once('exit', r));
    return { status, stdout, stderr };
  }
}

/** `n` replicas on free ports, started together. */
export async function startReplicas(n: number, opts: ServeOptions): Promise<ServeReplica[]> {
  const replicas: ServeReplica[] = [];
  for (let i = 0; i < n; i++) replicas.push(new ServeReplica(`r${i}`, await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-replica-')), opts));
  await Promise.all(replicas.map((r) => r.start()));
  return replicas;
}

/** Stops every replica (SIGTERM, or SIGKILL when asked) and removes their data dirs. */
export async function stopReplicas(replicas: ServeReplica[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.stop()));
  for (const r of replicas) fs.rmSync(r.dataDir, { recursive: true, force: true });
}

export const stats = async (r: ServeReplica): Promise<any> => (await fetch(`${r.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json();
