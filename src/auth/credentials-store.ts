// The credential our own login stored: one file in the data dir, mode 0600, written atomically so a
// crash mid-write never leaves half a token. Nothing here logs or returns the secret except read().
import crypto from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { FileDoc, type SecretDoc } from './secret-doc.js';

export const CREDENTIALS_FILE = 'claude-credentials.json';

const storedSchema = z.object({
  kind: z.enum(['oauth_token', 'api_key']),
  secret: z.string().min(8),
  /** How it got here: `claude setup-token` through our login, or pasted by an operator. */
  origin: z.enum(['setup-token', 'pasted']),
  created_at: z.string(),
  expires_at: z.string().nullable().default(null),
});
export type StoredCredential = z.infer<typeof storedSchema>;

export class CredentialsStore {
  readonly file: string;
  /** The file in the data dir, or the shared store with several replicas (secret-doc.ts). */
  readonly doc: SecretDoc;
  constructor(dataDir: string, doc?: SecretDoc) {
    this.file = path.join(dataDir, CREDENTIALS_FILE);
    this.doc = doc ?? new FileDoc(this.file);
  }

  /** Where the stored login is, for people. */
  get where(): string {
    return this.doc.where;
  }

  /** The stored credential, or undefined when there is none (or it is unreadable / malformed). */
  read(): StoredCredential | undefined {
    const text = this.doc.read();
    if (text === undefined) return undefined;
    try {
      const parsed = storedSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  write(cred: Omit<StoredCredential, 'created_at'> & { created_at?: string }): StoredCredential {
    const full = storedSchema.parse({ ...cred, created_at: cred.created_at ?? new Date().toISOString() });
    this.doc.write(JSON.stringify(full, null, 2) + '\n');
    return full;
  }

  /** True when there was something to remove. */
  remove(): boolean {
    return this.doc.remove();
  }
}

/** Classify a pasted secret; undefined when it is neither a Claude OAuth token nor an Anthropic API key. */
export function classifySecret(secret: string): StoredCredential['kind'] | undefined {
  if (/^sk-ant-oat\d*-[A-Za-z0-9_-]{20,}$/.test(secret)) return 'oauth_token';
  if (/^sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_-]{20,}$/.test(secret)) return 'api_key';
  return undefined;
}

/** The most of a secret that may be shown anywhere: a short suffix. */
export function maskSecret(secret: string): string {
  return `…${secret.slice(-4)}`;
}

/** A stable id for "the same credential" without keeping the secret (verification state is keyed by it). */
export function fingerprint(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
