// Runs `serve` (src/cli.ts) as a child process, as an operator would, and waits for its banner: for
// the tests of what happens at the process's edges (start-up, SIGTERM) and the replicas of the cluster
// tests (replicas.ts).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  /** The base URL the banner names (OpenAI's by default); rejects if the process exits first. */
  url: Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** stdout and stderr so far (for failure messages). */
  output(): string;
}

/** Starts `serve` with exactly this environment (and PATH); a test run that dies takes it along. */
export function spawnServe(env: NodeJS.ProcessEnv, banner = /OpenAI base URL:\s+(\S+)/): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  child.stderr.on('data', (d) => (out += d));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = banner.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${out}`)));
  });
  url.catch(() => {});
  return { child, url, exited, output: () => out };
}

export interface Served {
  child: ChildProcessWithoutNullStreams;
  /** The OpenAI base URL from the banner. */
  url: string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export async function startServe(env: NodeJS.ProcessEnv): Promise<Served> {
  const s = spawnServe(env);
  const url = await s.url;
  return {
    child: s.child,
    url,
    stop() {
      s.child.kill('SIGTERM');
      return s.exited;
    },
  };
}
