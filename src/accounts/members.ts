// One view of every credential in the pool, whatever declared it: the gateway's original credential
// (the first present source of auth/sources.ts: env variables, the stored login, a Claude Code login,
// Bedrock/Vertex) as the member "default", the members stored in the data dir (store.ts), and the
// members declared in GATEWAY_ACCOUNTS (declared.ts).
import { fingerprint, maskSecret } from '../auth/credentials-store.js';
import type { CredentialSource } from '../auth/sources.js';
import type { DeclaredPool } from './declared.js';
import { DEFAULT_ACCOUNT, type AccountRole, type AccountsFile } from './store.js';

export interface Member {
  name: string;
  /** oauth_token, api_key, auth_token, claude_login, bedrock, vertex, env */
  kind: string;
  /** Where it is declared: the original credential, the data dir, or the environment. */
  origin: 'default' | 'stored' | 'env';
  priority: number;
  role: AccountRole;
  disabled: boolean;
  /** The credential variables its CLI processes get (undefined for the default: auth/ hands them to the engine). */
  env: Record<string, string> | undefined;
  /** Identifies this exact credential without holding it: a new login under the same name starts afresh. */
  fingerprint: string;
  masked: string | null;
  expiresAt: string | null;
  source: string;
}

const secretOf = (env: Record<string, string>) => env.CLAUDE_CODE_OAUTH_TOKEN ?? env.ANTHROPIC_API_KEY ?? env.ANTHROPIC_AUTH_TOKEN;

export function listMembers(defaultSource: CredentialSource | undefined, file: AccountsFile, declared: DeclaredPool): Member[] {
  const disabled = new Set(file.disabled);
  const out: Member[] = [];
  if (defaultSource) {
    out.push({
      name: DEFAULT_ACCOUNT,
      kind: defaultSource.method,
      origin: 'default',
      priority: declared.defaults?.priority ?? 0,
      role: declared.defaults?.role ?? 'primary',
      disabled: disabled.has(DEFAULT_ACCOUNT),
      env: undefined,
      fingerprint: defaultSource.fingerprint,
      masked: defaultSource.masked,
      expiresAt: defaultSource.expiresAt,
      source: defaultSource.source,
    });
  }
  for (const a of declared.accounts) {
    const secret = secretOf(a.env);
    out.push({
      name: a.name,
      kind: a.kind,
      origin: 'env',
      priority: a.priority,
      role: a.role,
      disabled: disabled.has(a.name),
      env: a.env,
      fingerprint: fingerprint(secret ?? JSON.stringify(a.env)),
      masked: secret ? maskSecret(secret) : null,
      expiresAt: null,
      source: 'env GATEWAY_ACCOUNTS',
    });
  }
  for (const a of file.accounts) {
    if (out.some((m) => m.name === a.name)) continue; // the environment wins a name clash
    out.push({
      name: a.name,
      kind: a.kind,
      origin: 'stored',
      priority: a.priority,
      role: a.role,
      disabled: a.disabled,
      env: { [a.kind === 'api_key' ? 'ANTHROPIC_API_KEY' : 'CLAUDE_CODE_OAUTH_TOKEN']: a.secret },
      fingerprint: fingerprint(a.secret),
      masked: maskSecret(a.secret),
      expiresAt: a.expires_at,
      source: 'stored',
    });
  }
  return out;
}
