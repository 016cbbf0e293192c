// Members declared in the environment, for deployments that configure everything there:
//
//   GATEWAY_ACCOUNTS='[
//     {"name":"seat-2","oauth_token":"sk-ant-oat01-…","priority":1},
//     {"name":"console","api_key":"sk-ant-api03-…","role":"overflow"},
//     {"name":"bedrock","env":{"CLAUDE_CODE_USE_BEDROCK":"1","AWS_REGION":"us-east-1"},"role":"overflow","priority":9},
//     {"name":"default","priority":5}
//   ]'
//
// An entry named "default" carries no credential: it sets the priority and role of the gateway's
// original credential (auth/sources.ts). A bad value stops start-up with a message that names it.
import { z } from 'zod';
import { ConfigError } from '../config/config.js';
import { isCredentialEnvName } from '../engine/child-env.js';
import { ACCOUNT_NAME, DEFAULT_ACCOUNT, roleSchema, type AccountRole } from './store.js';

const entrySchema = z
  .object({
    name: z.string().regex(ACCOUNT_NAME, 'a name is 1-40 letters, digits, "_", "." or "-", starting with a letter or digit'),
    oauth_token: z.string().min(8).optional(),
    api_key: z.string().min(8).optional(),
    auth_token: z.string().min(8).optional(),
    env: z
      .record(z.string(), z.string())
      .refine((e) => Object.keys(e).every(isCredentialEnvName), 'env may hold only credential variables (ANTHROPIC_API_KEY, CLAUDE_CODE_USE_BEDROCK, AWS_*, GOOGLE_*, ...)')
      .optional(),
    priority: z.number().int().default(0),
    role: roleSchema.default('primary'),
  })
  .strict()
  .refine((e) => (e.name === DEFAULT_ACCOUNT ? !e.oauth_token && !e.api_key && !e.auth_token && !e.env : [e.oauth_token, e.api_key, e.auth_token, e.env].filter(Boolean).length === 1), {
    message: 'each entry has exactly one of oauth_token, api_key, auth_token or env (the "default" entry has none: it only sets priority and role)',
  });

export interface DeclaredAccount {
  name: string;
  kind: 'oauth_token' | 'api_key' | 'auth_token' | 'env';
  env: Record<string, string>;
  priority: number;
  role: AccountRole;
}

export interface DeclaredPool {
  accounts: DeclaredAccount[];
  /** Priority and role of the default member, when the environment sets them. */
  defaults?: { priority: number; role: AccountRole };
}

export function parseDeclaredAccounts(raw: string | undefined): DeclaredPool {
  if (!raw?.trim()) return { accounts: [] };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('GATEWAY_ACCOUNTS is not valid JSON: it must be an array of {"name", and one of "oauth_token", "api_key", "auth_token", "env"}.');
  }
  const parsed = z.array(entrySchema).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`GATEWAY_ACCOUNTS[${issue.path.join('.')}]: ${issue.message}`);
  }
  const seen = new Set<string>();
  const out: DeclaredPool = { accounts: [] };
  for (const e of parsed.data) {
    if (seen.has(e.name)) throw new ConfigError(`GATEWAY_ACCOUNTS: the name "${e.name}" appears twice; names must be unique.`);
    seen.add(e.name);
    if (e.name === DEFAULT_ACCOUNT) {
      out.defaults = { priority: e.priority, role: e.role };
      continue;
    }
    const [kind, env]: [DeclaredAccount['kind'], Record<string, string>] = e.oauth_token
      ? ['oauth_token', { CLAUDE_CODE_OAUTH_TOKEN: e.oauth_token }]
      : e.api_key
        ? ['api_key', { ANTHROPIC_API_KEY: e.api_key }]
        : e.auth_token
          ? ['auth_token', { ANTHROPIC_AUTH_TOKEN: e.auth_token }]
          : ['env', e.env!];
    out.accounts.push({ name: e.name, kind, env, priority: e.priority, role: e.role });
  }
  return out;
}
