// `claude-code-gateway keys create|list|revoke`: app keys from a terminal. Works on the storage
// itself (the data dir, or Redis when GATEWAY_REDIS_URL is set), as the gateway does, so it needs
// no running gateway and no admin key: whoever may read the data dir is the admin already. A
// running gateway sees a new or revoked key on its next request.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { openStore } from '../conversations/stores/open-store.js';
import { GatewayError } from '../errors.js';
import { validate } from '../http/body.js';
import { createLogger } from '../log.js';
import { Admin } from './admin.js';
import { createKeySchema } from './app-keys.js';

export const KEYS_HELP = `Usage:
  claude-code-gateway keys create --name NAME [--models a,b] [--rpm N] [--tpm N]
                                  [--daily-tokens N] [--monthly-tokens N] [--expires-at ISO-DATE] [--json]
  claude-code-gateway keys list [--json]
  claude-code-gateway keys revoke KEY_ID [--json]`;

/** Where the command writes (a test passes its own). */
export interface KeysIo {
  say(line: string): void;
  warn(line: string): void;
}

const stdio: KeysIo = { say: (s) => void process.stdout.write(s + '\n'), warn: (s) => void process.stderr.write(s + '\n') };

const num = (v: string | undefined) => (v === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

export async function keysCommand(args: string[], io: KeysIo = stdio): Promise<number> {
  const { say, warn } = io;
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        models: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        'daily-tokens': { type: 'string' },
        'monthly-tokens': { type: 'string' },
        'expires-at': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    warn(`${(e as Error).message}\n\n${KEYS_HELP}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  if (!sub || !['create', 'list', 'revoke'].includes(sub)) {
    warn(KEYS_HELP);
    return 2;
  }
  const config = loadConfig();
  const log = createLogger('silent');
  const store = openStore({ dataDir: config.dataDir, redisUrl: config.redisUrl, retentionMs: config.conversationRetentionDays * 86_400_000, log });
  const admin = new Admin({ store, log, adminKeys: [], usageRetentionDays: config.usageRetentionDays });
  try {
    if (sub === 'create') {
      const input = validate(createKeySchema, {
        name: o.name,
        models: o.models?.split(',').map((s) => s.trim()).filter(Boolean),
        rpm: num(o.rpm),
        tpm: num(o.tpm),
        daily_tokens: num(o['daily-tokens']),
        monthly_tokens: num(o['monthly-tokens']),
        expires_at: o['expires-at'],
      });
      const { key, record } = await admin.keys.create(input);
      if (o.json) say(JSON.stringify({ ...record, key }));
      else {
        say(`Created app key ${record.id} (${record.name}):\n\n  ${key}\n\nIt is shown this once; the gateway keeps only its hash.`);
        const limits = limitsText(record);
        if (limits) say(`Limits: ${limits}`);
      }
      return 0;
    }
    if (sub === 'list') {
      const keys = await admin.listKeys();
      if (o.json) say(JSON.stringify({ data: keys }));
      else if (!keys.length) say('No app keys. Create one with `claude-code-gateway keys create --name NAME`.');
      else {
        for (const k of keys) {
          const state = k.revoked_at ? `revoked ${k.revoked_at}` : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? `expired ${k.expires_at}` : 'active';
          const used = `today ${k.usage.today.requests} requests, ${k.usage.today.input_tokens + k.usage.today.output_tokens + k.usage.today.cache_read_tokens + k.usage.today.cache_write_tokens} tokens`;
          say(`${k.id}  ${k.prefix}…  ${k.name}  [${state}]  ${limitsText(k) || 'no limits'}; ${used}`);
        }
      }
      return 0;
    }
    const id = positionals[0];
    if (!id) {
      warn(`keys revoke needs the key's id (see \`keys list\`).\n\n${KEYS_HELP}`);
      return 2;
    }
    const k = await admin.keys.revoke(id);
    say(o.json ? JSON.stringify({ id: k.id, revoked_at: k.revoked_at }) : `Revoked ${k.id} (${k.name}) at ${k.revoked_at}.`);
    return 0;
  } catch (e) {
    if (e instanceof GatewayError) {
      warn(e.message);
      return e.status === 400 ? 2 : 1;
    }
    warn(`keys ${sub} failed: ${(e as Error).message}${config.redisUrl ? ' (is Redis reachable? keys are only made and revoked where every replica sees them)' : ''}`);
    return 1;
  } finally {
    await store.close();
  }
}

function limitsText(k: { models: string[] | null; rpm: number | null; tpm: number | null; daily_tokens: number | null; monthly_tokens: number | null; expires_at: string | null }): string {
  return [
    k.models && `models ${k.models.join(',')}`,
    k.rpm && `${k.rpm} requests/min`,
    k.tpm && `${k.tpm} tokens/min`,
    k.daily_tokens && `${k.daily_tokens} tokens/day`,
    k.monthly_tokens && `${k.monthly_tokens} tokens/month`,
    k.expires_at && `expires ${k.expires_at}`,
  ]
    .filter(Boolean)
    .join(', ');
}
