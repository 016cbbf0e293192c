// Fetches a remote image or document for the model, only when an operator turned fetchRemoteImages
// on. A URL from a client is an invitation to server-side request forgery, so: http(s) only; every
// address the name resolves to must be public unicast (no loopback, private, link-local, CGNAT,
// unique-local, multicast, mapped or tunnelled forms); the check runs inside the connection's own DNS
// lookup, so the address checked is the address connected to (no rebinding window); redirects are
// followed a few times, each through the same check; size and time are capped.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { clip, GatewayError } from '../../errors.js';

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Which addresses may be contacted; tests widen it to reach a local server. */
  allowAddress?: (ip: string) => boolean;
}

export interface FetchedMedia {
  mediaType: string;
  data: string;
}

const MAX_REDIRECTS = 3;

export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  return ipaddr.process(ip).range() === 'unicast';
}

function checkedLookup(allow: (ip: string) => boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const blocked = addresses.find((a) => !allow(a.address));
      if (blocked || !addresses.length) {
        const e = Object.assign(new Error(`the address of ${hostname} is not public`), { code: 'EBLOCKED' });
        return callback(e, '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function refuse(url: string, why: string): GatewayError {
  return new GatewayError('invalid_request', `Could not fetch '${clip(url)}': ${why}.`, { code: 'remote_fetch_failed' });
}

function getOnce(url: URL, limits: FetchLimits, allow: (ip: string) => boolean, signal: AbortSignal): Promise<http.IncomingMessage> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Literal addresses skip DNS (and so the lookup hook): check them here.
  if (net.isIP(host) && !allow(host)) return Promise.reject(refuse(url.href, 'the address is not public'));
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { lookup: checkedLookup(allow), signal, headers: { accept: 'image/*,application/pdf', 'user-agent': 'claude-code-gateway' } }, resolve);
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EBLOCKED') reject(refuse(url.href, e.message));
      else if (signal.aborted) reject(refuse(url.href, `no answer within ${limits.timeoutMs} ms`));
      else reject(refuse(url.href, e.code ?? 'connection failed'));
    });
  });
}

async function readCapped(res: http.IncomingMessage, url: string, maxBytes: number): Promise<Buffer> {
  if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
    res.destroy();
    throw refuse(url, `larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.destroy();
      throw refuse(url, `larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Fetch `url` within the limits; `accept` says which media types are wanted (e.g. image/png). */
export async function fetchRemoteMedia(url: string, accept: (mediaType: string) => boolean, limits: FetchLimits): Promise<FetchedMedia> {
  const allow = limits.allowAddress ?? isPublicAddress;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw refuse(url, 'only http(s) URLs are fetched');
    let res: http.IncomingMessage;
    try {
      res = await getOnce(current, limits, allow, signal);
    } catch (e) {
      throw e instanceof GatewayError ? e : refuse(url, 'connection failed');
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw refuse(url, 'too many redirects');
      current = new URL(res.headers.location, current);
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw refuse(url, `the server answered ${status}`);
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!accept(mediaType)) {
      res.destroy();
      throw refuse(url, `unsupported content type '${clip(mediaType || 'none')}'`);
    }
    try {
      const body = await readCapped(res, url, limits.maxBytes);
      return { mediaType, data: body.toString('base64') };
    } catch (e) {
      throw e instanceof GatewayError ? e : refuse(url, signal.aborted ? `no answer within ${limits.timeoutMs} ms` : 'the transfer failed');
    }
  }
}
