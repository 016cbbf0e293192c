// The soak's gateway: a `serve` child process on a fixed port (so clients find it again after a
// restart), restarted with SIGTERM or kill -9, and what the soak reads of it from /proc: RSS, open file
// descriptors, CLI processes under it, and processes left behind (anything running with the soak's HOME).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface GatewayOptions {
  root: string;
  port: number;
  apiKey: string;
  upstreamUrl: string;
  redisUrl?: string;
  env?: Record<string, string>;
}

export class GatewayProcess {
  child: ChildProcess | undefined;
  readonly home: string;
  readonly dataDir: string;
  readonly tmpDir: string;
  readonly url: string;
  private readonly logFile: string;
  starts = 0;

  constructor(private readonly o: GatewayOptions) {
    this.home = path.join(o.root, 'home');
    this.dataDir = path.join(o.root, 'data');
    this.tmpDir = path.join(o.root, 'tmp');
    for (const d of [this.home, this.dataDir, this.tmpDir]) fs.mkdirSync(d, { recursive: true });
    this.url = `http://127.0.0.1:${o.port}`;
    this.logFile = path.join(o.root, 'gateway.log');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: {
        PATH: process.env.PATH,
        HOME: this.home,
        TMPDIR: this.tmpDir,
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(this.o.port),
        GATEWAY_DATA_DIR: this.dataDir,
        GATEWAY_API_KEY: this.o.apiKey,
        GATEWAY_LOG_LEVEL: 'info',
        ANTHROPIC_BASE_URL: this.o.upstreamUrl,
        ANTHROPIC_API_KEY: 'sk-ant-soak',
        ...(this.o.redisUrl && { GATEWAY_REDIS_URL: this.o.redisUrl, GATEWAY_SECRET_KEY: 'soak-secret-0123456789abcdef0123456789' }),
        ...this.o.env,
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    this.starts++;
    const until = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited at start (${child.exitCode ?? child.signalCode}); see ${this.logFile}`);
      try {
        if ((await fetch(`${this.url}/health`)).status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`gateway not healthy after 120 s; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stop with `signal`; a SIGTERM that has not ended it in 90 s is followed by SIGKILL. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    await exited;
    clearTimeout(timer);
  }

  rssMb(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 1024) : 0;
    } catch {
      return 0;
    }
  }

  fds(): number {
    try {
      return fs.readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return 0;
    }
  }

  /** CLI processes below the gateway (any depth). */
  cliProcesses(): number {
    const kids = new Map<number, number[]>();
    const names = new Map<number, string>();
    for (const p of procs()) {
      (kids.get(p.ppid) ?? kids.set(p.ppid, []).get(p.ppid)!).push(p.pid);
      names.set(p.pid, p.cmd);
    }
    let n = 0;
    const walk = (pid: number) => {
      for (const k of kids.get(pid) ?? []) {
        if (/claude/.test(names.get(k) ?? '')) n++;
        walk(k);
      }
    };
    if (this.pid) walk(this.pid);
    return n;
  }

  /** Processes running with the soak's HOME other than the gateway: CLI processes, or after the end orphans. */
  ownProcesses(): number[] {
    const out: number[] = [];
    for (const p of procs()) {
      if (p.pid === this.pid) continue;
      try {
        if (fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(`HOME=${this.home}`)) out.push(p.pid);
      } catch {
        /* gone meanwhile */
      }
    }
    return out;
  }
}

function procs(): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(name), ppid, cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Files (not folders) under dir, recursively. */
export function countFiles(dir: string): number {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  } catch {
    /* gone meanwhile */
  }
  return n;
}

/** Bytes the files under dir take on disk. */
export function diskBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      n += e.isDirectory() ? diskBytes(p) : fs.statSync(p).blocks * 512;
    }
  } catch {
    /* gone meanwhile */
  }
  return n;
}
