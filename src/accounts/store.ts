// The pool's own members, kept in one file in the data dir (mode 0600, written atomically, never
// returned whole: only names, kinds and a short suffix of each secret leave this module). Members
// declared in the environment (declared.ts) are not written here; only whether one is disabled is.
// The file is re-read when it changes, so `claude-code-gateway login --name` or `accounts remove` in
// another process reaches a running gateway without a restart.
import path from 'node:path';
import { z } from 'zod';
import { FileDoc, type SecretDoc } from '../auth/secret-doc.js';

export const ACCOUNTS_FILE = 'claude-accounts.json';

export const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
/** The name of the gateway's original single credential (auth/sources.ts) in the pool. */
export const DEFAULT_ACCOUNT = 'default';

export const roleSchema = z.enum(['primary', 'overflow']);
export type AccountRole = z.infer<typeof roleSchema>;

const storedAccountSchema = z.object({
  name: z.string().regex(ACCOUNT_NAME),
  kind: z.enum(['oauth_token', 'api_key']),
  secret: z.string().min(8),
  origin: z.enum(['setup-token', 'pasted']),
  priority: z.number().int().default(0),
  role: roleSchema.default('primary'),
  disabled: z.boolean().default(false),
  created_at: z.string(),
  expires_at: z.string().nullable().default(null),
});
export type StoredAccount = z.infer<typeof storedAccountSchema>;

const fileSchema = z.object({
  accounts: z.array(storedAccountSchema).default([]),
  /** Members declared elsewhere (the environment, the default credential) that an operator disabled. */
  disabled: z.array(z.string()).default([]),
});
export type AccountsFile = z.infer<typeof fileSchema>;

export class AccountStore {
  readonly file: string;
  /** The file in the data dir, or the shared store with several replicas (auth/secret-doc.ts). */
  readonly doc: SecretDoc;
  private cache: { stamp: string; data: AccountsFile } | undefined;

  constructor(dataDir: string, doc?: SecretDoc) {
    this.file = path.join(dataDir, ACCOUNTS_FILE);
    this.doc = doc ?? new FileDoc(this.file);
  }

  /** Where the pool is kept, for people. */
  get where(): string {
    return this.doc.where;
  }

  /** The file's content; empty when there is none (or it is unreadable: the pool is then its other members). */
  read(): AccountsFile {
    const stamp = this.doc.version();
    if (this.cache?.stamp === stamp) return this.cache.data;
    let data: AccountsFile = { accounts: [], disabled: [] };
    const text = this.doc.read();
    try {
      const parsed = text === undefined ? undefined : fileSchema.safeParse(JSON.parse(text));
      if (parsed?.success) data = parsed.data;
    } catch {
      /* half-written or foreign: treated as empty, never half-read */
    }
    this.cache = { stamp, data };
    return data;
  }

  /** Change the content under a read-modify-write; written atomically (a file: mode 0600). */
  update(fn: (f: AccountsFile) => AccountsFile): AccountsFile {
    const next = fileSchema.parse(fn(structuredClone(this.read())));
    this.doc.write(JSON.stringify(next, null, 2) + '\n');
    this.cache = undefined;
    return next;
  }

  static parseAccount(a: Omit<StoredAccount, 'created_at' | 'priority' | 'role' | 'disabled' | 'expires_at'> & Partial<StoredAccount>): StoredAccount {
    return storedAccountSchema.parse({ ...a, created_at: a.created_at ?? new Date().toISOString() });
  }
}
