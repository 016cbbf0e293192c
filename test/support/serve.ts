// Runs `serve` (src/cli.ts) as a child process, as an operator would, and waits for its banner: for
// the tests of what happens at the process's edges (start-up, SIGTERM).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Served {
  child: ChildProcessWithoutNullStreams;
  /** The OpenAI base URL from the banner. */
  url: string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

export async function startServe(env: NodeJS.ProcessEnv): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /OpenAI base URL:\s+(\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    url,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
