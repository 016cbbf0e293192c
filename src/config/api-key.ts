// The gateway's own key. With none configured, one is generated on first start and kept in the data
// dir (mode 0600) so restarts keep working for the clients already set up with it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface KeyResolution {
  keys: string[];
  /** Set when the key came from (or was just written to) the data dir, so the operator can be told. */
  generatedFile?: string;
  created?: boolean;
}

export function resolveApiKeys(configured: string[], dataDir: string): KeyResolution {
  if (configured.length) return { keys: configured };
  const file = path.join(dataDir, 'api-key');
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (key) return { keys: [key], generatedFile: file, created: false };
  } catch {
    /* first start */
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = `ccg-${crypto.randomBytes(24).toString('base64url')}`;
  fs.writeFileSync(file, key + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { keys: [key], generatedFile: file, created: true };
}

/** The key a request presents: `Authorization: Bearer <key>` (OpenAI clients) or `x-api-key` (Anthropic's). */
export function presentedKey(header: (name: string) => string | undefined): string | undefined {
  const auth = header('authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return header('x-api-key')?.trim() || undefined;
}

/** Constant-time membership test: every configured key is compared, whatever matches first. */
export function keyMatches(given: string, keys: string[]): boolean {
  const g = crypto.createHash('sha256').update(given).digest();
  let ok = false;
  for (const k of keys) {
    const h = crypto.createHash('sha256').update(k).digest();
    if (crypto.timingSafeEqual(g, h)) ok = true;
  }
  return ok;
}
