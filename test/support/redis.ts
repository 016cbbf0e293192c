// A throwaway redis-server for tests: its own loopback port, nothing persisted, gone on stop().
import { spawn } from 'node:child_process';
import net from 'node:net';

export interface RedisServer {
  url: string;
  port: number;
  /** Graceful: SIGTERM, then wait for the process to exit. */
  stop(): Promise<void>;
  /** An outage: SIGKILL, then wait for the process to exit. */
  kill(): Promise<void>;
}

/** A port the kernel just handed out; free unless something grabs it in the moment before use. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`redis-server not ready after 10 s:\n${output}`)), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const early = (code: number | null) => fail(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.once('error', fail);
    child.once('exit', early);
    const watch = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.off('data', watch);
        child.off('exit', early);
        child.off('error', fail);
        child.on('error', () => {}); // a failed kill later is stop()'s business, not a crash
        child.stdout.resume(); // keep draining, so a full pipe never blocks the server
        child.stderr.resume();
        resolve();
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  });
  // A test run that dies without stop() must not leave the server behind.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url: `redis://127.0.0.1:${port}`, port, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
