// The internal hop between replicas. forward() sends a client's request, as the client sent it (its
// key included, so the owner authenticates, limits and books it once), to a registered peer under
// /_internal, signed with the hop subkey (keys.ts); it gives up when the peer does not accept the
// connection within a short timeout. internalEndpoint() is the receiving side: anything under /_internal
// that is not signed by a replica, is too old, or was seen before is refused; a good one is answered by
// this gateway's own routes as if the client had called them directly, streaming included.
import http from 'node:http';
import { Readable } from 'node:stream';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import { HOP_HEADERS, NonceCache, signHop, verifyHop } from './keys.js';
import type { Peer } from './registry.js';

export const INTERNAL_PREFIX = '/_internal';
/** Set on a 409 by an owner that no longer holds what it was asked for: the sender serves the turn itself. */
export const REFUSED_HEADER = 'x-ccg-hop';

/** What the receiving route sees in c.env: the replica that forwarded the request. */
export interface HopEnv {
  ccgHop?: { from: string };
}

export const hopOf = (c: Context): { from: string } | undefined => (c.env as HopEnv | undefined)?.ccgHop;

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface ForwardRequest {
  method: string;
  /** Path and query, as the client called this replica. */
  path: string;
  headers: Headers;
  body: Uint8Array;
  /** The client went away: the hop is cut too, so the owner stops the turn. */
  signal: AbortSignal;
}

export type ForwardOutcome = { kind: 'answered'; response: Response } | { kind: 'refused' } | { kind: 'unreachable'; why: string };

export function forward(peer: Peer, from: string, key: Buffer, req: ForwardRequest, connectTimeoutMs: number): Promise<ForwardOutcome> {
  const sig = signHop(key, from, req.method, req.path, req.body);
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k) && !k.startsWith('x-ccg-hop')) headers[k] = v;
  });
  Object.assign(headers, { [HOP_HEADERS.from]: sig.from, [HOP_HEADERS.time]: sig.time, [HOP_HEADERS.nonce]: sig.nonce, [HOP_HEADERS.signature]: sig.signature, 'content-length': String(req.body.byteLength) });
  const target = new URL(INTERNAL_PREFIX + req.path, peer.url);
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: ForwardOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const out = http.request(target, { method: req.method, headers, agent: false });
    const timer = setTimeout(() => {
      out.destroy();
      done({ kind: 'unreachable', why: `no connection within ${connectTimeoutMs} ms` });
    }, connectTimeoutMs);
    out.on('socket', (s) => s.once('connect', () => clearTimeout(timer)));
    out.on('error', (e) => done({ kind: 'unreachable', why: e.message }));
    const onAbort = () => out.destroy();
    req.signal.addEventListener('abort', onAbort, { once: true });
    out.on('response', (res) => {
      if (res.statusCode === 409 && res.headers[REFUSED_HEADER] === 'refused') {
        res.resume();
        return done({ kind: 'refused' });
      }
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined || HOP_BY_HOP.has(k)) continue;
        for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
      }
      res.on('close', () => req.signal.removeEventListener('abort', onAbort));
      const body = res.statusCode === 204 || res.statusCode === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      done({ kind: 'answered', response: new Response(body, { status: res.statusCode ?? 502, headers: h }) });
    });
    out.end(Buffer.from(req.body));
  });
}

/** A 409 that tells the sender to serve the turn itself (this replica no longer holds it, or drains). */
export function refusal(why: string): Response {
  return new Response(JSON.stringify({ error: { type: 'hop_refused', message: why } }), { status: 409, headers: { 'content-type': 'application/json', [REFUSED_HEADER]: 'refused' } });
}

export interface InternalEndpointDeps {
  key: Buffer;
  bodyLimitBytes: number;
  log: Logger;
  /** This gateway's own routes (app.fetch), which answer a verified hop. */
  dispatch: (req: Request, env: unknown) => Response | Promise<Response>;
}

const denied = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { type: 'hop_refused', code, message } }), { status, headers: { 'content-type': 'application/json' } });

export function internalEndpoint(deps: InternalEndpointDeps): MiddlewareHandler {
  const nonces = new NonceCache();
  return async (c) => {
    const inner = c.req.path.slice(INTERNAL_PREFIX.length) || '/';
    const query = new URL(c.req.url).search;
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > deps.bodyLimitBytes) return denied(413, 'request_too_large', 'The forwarded body is over the limit.');
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > deps.bodyLimitBytes) return denied(413, 'request_too_large', 'The forwarded body is over the limit.');
    const h = (n: string) => c.req.header(n);
    const verdict = verifyHop(deps.key, { from: h(HOP_HEADERS.from), time: h(HOP_HEADERS.time), nonce: h(HOP_HEADERS.nonce), signature: h(HOP_HEADERS.signature) }, c.req.method, inner + query, body);
    if (!verdict.ok || !nonces.first(verdict.nonce, verdict.time)) {
      const why = verdict.ok ? 'replayed' : verdict.why;
      deps.log.warn({ path: c.req.path, why }, 'cluster: refused a request on the internal endpoint');
      return denied(403, `hop_${why}`, 'Only another replica of this gateway may call the internal endpoint.');
    }
    const headers = new Headers(c.req.raw.headers);
    for (const n of Object.values(HOP_HEADERS)) headers.delete(n);
    const url = new URL(inner + query, c.req.url);
    const forwarded = new Request(url, { method: c.req.method, headers, body: c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : body, signal: c.req.raw.signal });
    return deps.dispatch(forwarded, { ...(c.env as object), ccgHop: { from: verdict.from } } satisfies HopEnv);
  };
}
