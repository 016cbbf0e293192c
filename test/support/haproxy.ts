// Debian's haproxy in front of several gateway replicas, as an operator would run it: round robin,
// readiness checks on GET /health every 200 ms (a replica answering 503 draining leaves at once),
// a failed connection retried on another replica (retry-on conn-failure, option redispatch), and one
// backend connection per request, so a replica that closes its listener never gets a request again.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis.js';

export const HAPROXY = '/usr/sbin/haproxy';

export interface Haproxy {
  url: string;
  port: number;
  /** The configuration it runs with (the README shows the same). */
  config: string;
  stop(): Promise<void>;
}

export function haproxyConfig(port: number, backends: number[]): string {
  return [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 300s',
    '  timeout server 300s',
    '  timeout check 2s',
    '  retries 3',
    '  retry-on conn-failure',
    '  option redispatch',
    '  option http-server-close',
    // Streams go out as they come: without it haproxy holds small writes back to merge them (MSG_MORE),
    // measured here as 18 ms more to a stream's first token.
    '  option http-no-delay',
    'frontend gateway',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /health',
    '  http-check expect status 200',
    '  default-server inter 200ms fall 2 rise 1',
    ...backends.map((p, i) => `  server r${i} 127.0.0.1:${p} check`),
    '',
  ].join('\n');
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startHaproxy(backends: number[]): Promise<Haproxy> {
  if (!fs.existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: apt-get install haproxy`);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  const config = haproxyConfig(port, backends);
  fs.writeFileSync(file, config);
  const child = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  for (let i = 0; !(await accepts(port)); i++) {
    if (child.exitCode !== null || i > 200) throw new Error(`haproxy did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      process.off('exit', orphan);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
