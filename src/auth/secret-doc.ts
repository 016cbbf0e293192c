// Where a secret document (the stored login, the pool's members) is kept: a file in the data dir
// (mode 0600, written atomically: the single-replica default), or, with several replicas, the shared
// store, encrypted (cluster/shared-docs.ts). The stores above read and write text through this and
// never learn which; `version` changes with every change so callers can cache what they parse.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface SecretDoc {
  /** Where it lives, for people ("/data/claude-credentials.json", "the shared store"). */
  readonly where: string;
  /** The document, or undefined when there is none (or it cannot be read). */
  read(): string | undefined;
  /** Changes whenever the document may have (a cache key for what is parsed from it). */
  version(): string;
  write(text: string): void;
  /** True when there was something to remove. */
  remove(): boolean;
}

/**
 * The documents the command line (`login`, `status`, `logout`, `accounts`) works on: the files unless
 * cli.ts set the shared store's (GATEWAY_REDIS_URL) before running the command.
 */
export const loginDocs: { credentials?: SecretDoc; accounts?: SecretDoc } = {};

export class FileDoc implements SecretDoc {
  constructor(readonly where: string) {}

  read(): string | undefined {
    try {
      return fs.readFileSync(this.where, 'utf8');
    } catch {
      return undefined;
    }
  }

  version(): string {
    try {
      const st = fs.statSync(this.where);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return 'absent';
    }
  }

  write(text: string): void {
    fs.mkdirSync(path.dirname(this.where), { recursive: true, mode: 0o700 });
    const tmp = `${this.where}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600); // the umask cannot widen it, but an existing file's mode could
    fs.renameSync(tmp, this.where);
  }

  remove(): boolean {
    try {
      fs.unlinkSync(this.where);
      return true;
    } catch {
      return false;
    }
  }
}
