// Slows key guessing: failed authentication is counted per client address. The first few failures
// are free; after them the address is refused with 429 for a time that doubles with each further
// failure, up to a cap. Only the failing address is refused: every other address goes on as before.
// The table is bounded (least recently failed entries go first) and forgets an address once it has
// been quiet for a while, so a flood of addresses cannot make it grow without limit.
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import ipaddr from 'ipaddr.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';

export interface AuthThrottleOptions {
  /** Failures allowed before the address is refused (0: throttling off). */
  freeFailures: number;
  /** The first refusal's length; each further failure doubles it. */
  baseBlockMs: number;
  maxBlockMs: number;
  /** An address with no failure for this long starts again from zero. */
  forgetMs: number;
  /** Addresses remembered at once. */
  maxEntries: number;
  log?: Logger;
  now?: () => number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Seconds the address must wait before it may try again, or undefined when it may try now. */
  retryAfter(addr: string): number | undefined {
    const e = this.entry(addr);
    if (!e) return undefined;
    const left = e.blockedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : undefined;
  }

  /** Count a failed attempt; returns the seconds the address is now refused for, if it is. */
  fail(addr: string, detail: Record<string, unknown> = {}): number | undefined {
    // Every failed key is worth an operator's look (a misconfigured client, a leaked or guessed key).
    this.opts.log?.warn({ client: addr, ...detail }, 'authentication failed: wrong, unknown, revoked or expired API key');
    if (this.opts.freeFailures <= 0) return undefined;
    const now = this.now();
    const e = this.entry(addr) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailure = now;
    // Most recently failed last: the Map's order is the eviction order.
    this.entries.delete(addr);
    this.entries.set(addr, e);
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const over = e.failures - this.opts.freeFailures;
    if (over < 0) return undefined;
    const ms = Math.min(this.opts.maxBlockMs, this.opts.baseBlockMs * 2 ** Math.min(over, 40));
    e.blockedUntil = now + ms;
    const sec = Math.ceil(ms / 1000);
    this.opts.log?.warn({ client: addr, failures: e.failures, retryAfterSec: sec }, 'repeated authentication failures: client refused for a while');
    return sec;
  }

  /** The 429 a refused address gets. */
  static refusal(retryAfterSec: number): GatewayError {
    return new GatewayError('rate_limited', `Too many failed authentication attempts from this address; retry after ${retryAfterSec} s.`, {
      retryAfterSec,
      code: 'too_many_auth_failures',
    });
  }

  private entry(addr: string): Entry | undefined {
    const e = this.entries.get(addr);
    if (!e) return undefined;
    const now = this.now();
    if (e.blockedUntil <= now && now - e.lastFailure > this.opts.forgetMs) {
      this.entries.delete(addr);
      return undefined;
    }
    return e;
  }
}

/**
 * Which proxies in front of the gateway may name the client (X-Forwarded-For / Forwarded): none
 * (the default: the peer is the client), a number of hops, or a list of addresses and CIDR ranges
 * ("loopback", "private" and "uniquelocal" name ipaddr.js ranges).
 */
export type TrustProxy = { hops: number } | { ranges: string[] };

export function parseTrustProxy(spec: string[] | undefined): TrustProxy {
  const items = (spec ?? []).map((s) => s.trim()).filter(Boolean);
  if (items.length === 1 && /^\d+$/.test(items[0])) return { hops: Number(items[0]) };
  return { ranges: items };
}

/** The key an address is counted under: IPv4 as is, IPv6 by its /64 (one host's usual allocation). */
export function addressKey(raw: string): string {
  const s = raw.trim().replace(/^\[|\](:\d+)?$/g, '');
  if (!ipaddr.isValid(s)) return raw.slice(0, 64);
  const a = ipaddr.process(s);
  if (a.kind() === 'ipv4') return a.toString();
  const parts = (a as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}

function trusted(addr: string, ranges: string[]): boolean {
  if (!ipaddr.isValid(addr)) return false;
  const a = ipaddr.process(addr);
  for (const r of ranges) {
    if (r.includes('/')) {
      try {
        const [net, bits] = ipaddr.parseCIDR(r);
        if (net.kind() === a.kind() && a.match(net, bits)) return true;
      } catch {
        /* not a range */
      }
    } else if (ipaddr.isValid(r)) {
      if (ipaddr.process(r).toString() === a.toString()) return true;
    } else if (a.range() === r) return true;
  }
  return false;
}

/** The addresses a request was forwarded for, nearest last: X-Forwarded-For, else Forwarded's for=. */
function forwardedChain(c: Context): string[] {
  const xff = c.req.header('x-forwarded-for');
  if (xff) return xff.split(',').map((s) => s.trim()).filter(Boolean);
  const fwd = c.req.header('forwarded');
  if (!fwd) return [];
  const out: string[] = [];
  for (const part of fwd.split(',')) {
    const m = /(?:^|;)\s*for\s*=\s*("?)([^";,]+)\1/i.exec(part);
    if (m) out.push(m[2].replace(/^\[|\](:\d+)?$/g, '').replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, '$1'));
  }
  return out;
}

function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (app.request in a test)
  }
}

/** The client's address: the peer, or what trusted proxies say it forwarded for. */
export function clientAddress(c: Context, trust: TrustProxy): string {
  const peer = peerAddress(c);
  if ('hops' in trust ? trust.hops === 0 : trust.ranges.length === 0) return addressKey(peer);
  const chain = [...forwardedChain(c), peer].map((s) => (ipaddr.isValid(s) ? ipaddr.process(s).toString() : s));
  if ('hops' in trust) return addressKey(chain[Math.max(0, chain.length - 1 - trust.hops)]);
  let i = chain.length - 1;
  while (i > 0 && trusted(chain[i], trust.ranges)) i--;
  return addressKey(chain[i]);
}
