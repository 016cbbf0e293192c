// What the container tests share (container.ts: one gateway; replicas.ts: the 3-replica compose file
// and the Kubernetes manifests): podman set up and the gateway image built from the Dockerfile, a
// free port, a wait on something outside our process, and a relay that lets containers on a bridge
// network reach the scripted upstream on the host's loopback.
import net from 'node:net';
import path from 'node:path';
import { ensureNodeBase } from './base-image.js';
import { ensurePackages, podman, writeContainersConf } from './podman.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** The image the tests run, built from the Dockerfile. */
export const IMAGE = 'localhost/claude-code-gateway:test';
/** The same image under the name the compose files and the Kubernetes manifests use. */
export const DEPLOY_IMAGE = 'localhost/claude-code-gateway:local';

export function logger(name: string): (s: string) => void {
  const t0 = Date.now();
  return (s) => console.log(`# [${name} ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);
}

/**
 * Podman ready (installed with apt-get when missing, our containers.conf), then the image built as a
 * user builds it (`podman build --format docker`; NODE_IMAGE points at the local base image, no
 * registry here). A rerun reuses podman's layer cache.
 */
export async function ensureGatewayImage(log: (s: string) => void): Promise<{ buildMs: number; size: number; baseSize: number }> {
  ensurePackages(log);
  writeContainersConf();
  log((await podman(['--version'])).stdout.trim());
  const base = await ensureNodeBase(log);
  const b0 = Date.now();
  await podman(['build', '--format', 'docker', '--build-arg', `NODE_IMAGE=${base}`, '-t', IMAGE, '-t', DEPLOY_IMAGE, ROOT]);
  const buildMs = Date.now() - b0;
  log(`image built in ${(buildMs / 1000).toFixed(0)} s`);
  const size = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout.trim());
  const baseSize = Number((await podman(['image', 'inspect', '--format', '{{.Size}}', base])).stdout.trim());
  return { buildMs, size, baseSize };
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });

/** Polls because containers start outside our process: there is no event to wait on. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, limitMs = 60_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A TCP relay on all the host's addresses to a loopback port: containers on a bridge network reach the
 * host's scripted upstream through it (host.containers.internal or the network's gateway address).
 */
export async function startRelay(targetPort: number): Promise<{ port: number; close: () => void }> {
  const open = new Set<net.Socket>();
  const relay = net.createServer((sock) => {
    const up = net.connect(targetPort, '127.0.0.1');
    for (const s of [sock, up]) {
      open.add(s);
      s.once('close', () => open.delete(s));
    }
    sock.pipe(up).pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '0.0.0.0', r));
  // A container removed with a connection open never answers its close: destroy, or the test never exits.
  const close = () => {
    relay.close();
    for (const s of open) s.destroy();
  };
  return { port: (relay.address() as net.AddressInfo).port, close };
}

const keyed = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

/**
 * The one login, as a user makes it through the balancer: a token from `claude setup-token` pasted on
 * `POST /auth/token` with the gateway key. The replica that takes it stores it in the shared store and
 * verifies it with a turn upstream.
 */
export async function pasteToken(base: string, key: string, token: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}/auth/token`, { method: 'POST', headers: keyed(key), body: JSON.stringify({ token }) });
  return { status: r.status, body: await r.json() };
}

/** One replica's `GET /auth/status` (which credential it uses and from where). */
export async function authStatus(base: string, key: string): Promise<{ authenticated: boolean; source: string | null; credential: string | null }> {
  const r = await fetch(`${base}/auth/status`, { headers: keyed(key) });
  if (!r.ok) throw new Error(`${base}/auth/status: ${r.status}`);
  return r.json() as Promise<{ authenticated: boolean; source: string | null; credential: string | null }>;
}
