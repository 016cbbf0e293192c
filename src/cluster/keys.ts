// The cluster's secrets, all derived from one operator key (GATEWAY_SECRET_KEY) by HKDF-SHA256 with a
// purpose label each, so no two uses share key material: the login secrets at rest in the shared store
// (AES-256-GCM), the internal hop between replicas (HMAC-SHA256 over method, path, time, nonce and a
// hash of the body), and the /auth page's session cookies. Pure functions: no I/O, no clock but `now`.
import crypto from 'node:crypto';

export interface ClusterKeys {
  /** Encrypts login secrets in the shared store. */
  atRest: Buffer;
  /** Signs requests one replica forwards to another. */
  hop: Buffer;
  /** Signs /auth page session cookies, so any replica recognises a session another one opened. */
  session: Buffer;
}

const SALT = Buffer.from('claude-code-gateway cluster v1');
const subkey = (secret: string, purpose: string) => Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secret, 'utf8'), SALT, Buffer.from(purpose), 32));

export function deriveKeys(secret: string): ClusterKeys {
  return { atRest: subkey(secret, 'login secrets at rest'), hop: subkey(secret, 'internal hop'), session: subkey(secret, 'web sessions') };
}

/** An encrypted value as stored: version, nonce, tag and ciphertext, base64url. */
export interface Sealed {
  v: 1;
  iv: string;
  tag: string;
  ct: string;
}

/** AES-256-GCM with a fresh 96-bit nonce; `label` is bound as associated data (a value moved to another key fails). */
export function seal(key: Buffer, label: string, plaintext: string): Sealed {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(label));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return { v: 1, iv: iv.toString('base64url'), tag: c.getAuthTag().toString('base64url'), ct: ct.toString('base64url') };
}

export class OpenFailed extends Error {}

/** The plaintext, or OpenFailed when the value was not sealed with this key and label (or was altered). */
export function open(key: Buffer, label: string, sealed: unknown): string {
  const s = sealed as Partial<Sealed> | null;
  if (!s || s.v !== 1 || typeof s.iv !== 'string' || typeof s.tag !== 'string' || typeof s.ct !== 'string') throw new OpenFailed('not a sealed value');
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(s.iv, 'base64url'));
    d.setAAD(Buffer.from(label));
    d.setAuthTag(Buffer.from(s.tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(s.ct, 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new OpenFailed('the value does not open with this key (another GATEWAY_SECRET_KEY, or altered)');
  }
}

/** The headers a forwarded request carries. */
export const HOP_HEADERS = { from: 'x-ccg-hop-from', time: 'x-ccg-hop-time', nonce: 'x-ccg-hop-nonce', signature: 'x-ccg-hop-signature' } as const;

/** How long a signed hop is valid (either side of the receiver's clock). */
export const HOP_VALIDITY_MS = 30_000;

export interface HopSignature {
  from: string;
  time: string;
  nonce: string;
  signature: string;
}

const bodyHash = (body: Uint8Array) => crypto.createHash('sha256').update(body).digest('hex');
const mac = (key: Buffer, parts: string[]) => crypto.createHmac('sha256', key).update(parts.join('\n')).digest('base64url');

export function signHop(key: Buffer, from: string, method: string, path: string, body: Uint8Array, now = Date.now(), nonce = crypto.randomBytes(16).toString('base64url')): HopSignature {
  const time = String(now);
  return { from, time, nonce, signature: mac(key, [method.toUpperCase(), path, time, nonce, from, bodyHash(body)]) };
}

export type HopVerdict = { ok: true; from: string; nonce: string; time: number } | { ok: false; why: 'unsigned' | 'bad_signature' | 'expired' };

/** Checks a hop's signature and age (replays within the validity are the receiver's nonce cache's business). */
export function verifyHop(key: Buffer, sig: Partial<HopSignature>, method: string, path: string, body: Uint8Array, now = Date.now()): HopVerdict {
  if (!sig.from || !sig.time || !sig.nonce || !sig.signature) return { ok: false, why: 'unsigned' };
  const expected = Buffer.from(mac(key, [method.toUpperCase(), path, sig.time, sig.nonce, sig.from, bodyHash(body)]));
  const given = Buffer.from(sig.signature);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return { ok: false, why: 'bad_signature' };
  const time = Number(sig.time);
  if (!Number.isFinite(time) || Math.abs(now - time) > HOP_VALIDITY_MS) return { ok: false, why: 'expired' };
  return { ok: true, from: sig.from, nonce: sig.nonce, time };
}

/** Nonces seen within the validity window: a hop presented twice is refused the second time. */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  /** True the first time a nonce is seen (and remembers it until it would have expired anyway). */
  first(nonce: string, time: number, now = Date.now()): boolean {
    for (const [n, t] of this.seen) {
      if (now - t <= HOP_VALIDITY_MS * 2) break; // insertion order is roughly time order
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, time);
    return true;
  }
}
