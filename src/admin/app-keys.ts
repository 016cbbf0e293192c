// App keys: keys the admin hands out to applications, each with its own limits. A key is shown once,
// when it is made; the store keeps only its SHA-256. A slow password hash (scrypt, bcrypt) protects
// guessable secrets; these are 256 random bits, which no hash speed makes guessable, and the hash is
// looked up on every request, so a fast one is the right one. Rows are keyed by that hash (one
// lookup per request, no cache: a revocation counts on the next request, on every replica).
import crypto from 'node:crypto';
import { z } from 'zod';
import type { ConversationStore } from '../conversations/stores/store.js';
import { GatewayError } from '../errors.js';

export const APP_KEY_PREFIX = 'sk-gw-';
const TABLE = 'appkeys';

export interface AppKey {
  id: string;
  name: string;
  /** The key's first characters, to tell keys apart in lists (never enough to use it). */
  prefix: string;
  /** Models the key may use (as the client names them, or their resolved ids); null: all. */
  models: string[] | null;
  rpm: number | null;
  tpm: number | null;
  daily_tokens: number | null;
  monthly_tokens: number | null;
  expires_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

const limit = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable().optional();

/** What creating a key takes (the admin API's body, and the `keys create` command's flags). */
export const createKeySchema = z
  .object({
    name: z.string().trim().min(1, 'name must not be empty').max(100),
    models: z.array(z.string().trim().min(1).max(200)).min(1, 'models, when given, must name at least one model').max(100).nullable().optional(),
    rpm: limit,
    tpm: limit,
    daily_tokens: limit,
    monthly_tokens: limit,
    expires_at: z.iso
      .datetime({ offset: true, message: 'expires_at must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' })
      .refine((s) => Date.parse(s) > Date.now(), 'expires_at is in the past')
      .nullable()
      .optional(),
  })
  .strict();

export type CreateKeyInput = z.infer<typeof createKeySchema>;

export const hashKey = (key: string): string => crypto.createHash('sha256').update(key).digest('hex');

export type KeyState = { ok: true; key: AppKey } | { ok: false; reason: 'unknown' | 'revoked' | 'expired'; key?: AppKey };

export class AppKeys {
  constructor(private readonly store: ConversationStore) {}

  /** A new key: its record, and the key itself (shown to the admin this once). */
  async create(input: CreateKeyInput, now = Date.now()): Promise<{ key: string; record: AppKey }> {
    const key = `${APP_KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
    const record: AppKey = {
      id: `key_${crypto.randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`,
      name: input.name,
      prefix: key.slice(0, APP_KEY_PREFIX.length + 6),
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      daily_tokens: input.daily_tokens ?? null,
      monthly_tokens: input.monthly_tokens ?? null,
      expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
      created_at: new Date(now).toISOString(),
      revoked_at: null,
    };
    await this.write(hashKey(key), record);
    return { key, record };
  }

  async list(): Promise<AppKey[]> {
    const rows = await this.store.readRows<AppKey>(TABLE);
    return Object.values(rows).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  async revoke(id: string, now = Date.now()): Promise<AppKey> {
    const rows = await this.store.readRows<AppKey>(TABLE);
    const found = Object.entries(rows).find(([, k]) => k.id === id);
    if (!found) throw new GatewayError('not_found', `No app key with id '${id}'.`, { code: 'key_not_found' });
    const [hash, key] = found;
    if (key.revoked_at) return key; // revoking twice changes nothing
    const revoked = { ...key, revoked_at: new Date(now).toISOString() };
    await this.write(hash, revoked);
    return revoked;
  }

  /** A key row written where every replica sees it, or a 503 that says why not (a Redis outage). */
  private async write(hash: string, record: AppKey): Promise<void> {
    try {
      await this.store.putRow(TABLE, hash, record);
    } catch {
      throw new GatewayError('unavailable', 'The key store is unavailable: app keys are made and revoked only where every replica sees them. Retry once Redis is back.', {
        code: 'key_store_unavailable',
        retryAfterSec: 5,
      });
    }
  }

  /** What a presented key is: a usable app key, or why not. */
  async check(presented: string, now = Date.now()): Promise<KeyState> {
    if (!presented.startsWith(APP_KEY_PREFIX)) return { ok: false, reason: 'unknown' };
    const key = await this.store.getRow<AppKey>(TABLE, hashKey(presented));
    if (!key) return { ok: false, reason: 'unknown' };
    if (key.revoked_at) return { ok: false, reason: 'revoked', key };
    if (key.expires_at && Date.parse(key.expires_at) <= now) return { ok: false, reason: 'expired', key };
    return { ok: true, key };
  }
}
