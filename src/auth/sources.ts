// Where the CLI's Anthropic credentials come from, in one documented order. The first source that is
// present is active and the CLI child gets exactly its variables; every other credential variable is
// kept out of the child's environment (see withoutCredentials in engine/child-env.ts).
//
//   1. ANTHROPIC_API_KEY            (env)   an Anthropic Console API key
//   2. ANTHROPIC_AUTH_TOKEN         (env)   a bearer token for an API proxy
//   3. CLAUDE_CODE_OAUTH_TOKEN      (env)   a long-lived token from `claude setup-token`
//   4. the gateway's stored login   (data dir, from /auth or `claude-code-gateway login`)
//   5. an existing Claude Code login: <CLAUDE_CONFIG_DIR or ~/.claude>/.credentials.json
//   6. Amazon Bedrock (CLAUDE_CODE_USE_BEDROCK=1) or Google Vertex AI (CLAUDE_CODE_USE_VERTEX=1),
//      with their cloud variables passed through
import fs from 'node:fs';
import path from 'node:path';
import { isCredentialEnvName } from '../engine/child-env.js';
import { CredentialsStore, fingerprint, maskSecret, type StoredCredential } from './credentials-store.js';

export type AuthMethod = 'api_key' | 'auth_token' | 'oauth_token' | 'claude_login' | 'bedrock' | 'vertex';

export interface CredentialSource {
  id: 'env_api_key' | 'env_auth_token' | 'env_oauth_token' | 'stored' | 'claude_config' | 'bedrock' | 'vertex';
  method: AuthMethod;
  /** Where it comes from, for people: "env ANTHROPIC_API_KEY", "stored (/data/claude-credentials.json)". */
  source: string;
  /** The credential variables the CLI child gets for this source (nothing else credential-like). */
  env: Record<string, string>;
  /** Identifies this exact credential without holding it (verification state is kept per fingerprint). */
  fingerprint: string;
  /** A short suffix of the secret, when there is one to show. */
  masked: string | null;
  expiresAt: string | null;
  subscription: string | null;
}

const truthy = (v: string | undefined) => !!v && !['0', 'false', 'no', ''].includes(v.toLowerCase());

function secretSource(id: CredentialSource['id'], method: AuthMethod, name: string, value: string | undefined): CredentialSource | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  return { id, method, source: `env ${name}`, env: { [name]: v }, fingerprint: fingerprint(v), masked: maskSecret(v), expiresAt: null, subscription: null };
}

function storedSource(store: CredentialsStore, cred: StoredCredential | undefined): CredentialSource | undefined {
  if (!cred) return undefined;
  const name = cred.kind === 'api_key' ? 'ANTHROPIC_API_KEY' : 'CLAUDE_CODE_OAUTH_TOKEN';
  return {
    id: 'stored',
    method: cred.kind,
    source: `stored (${store.where})`,
    env: { [name]: cred.secret },
    fingerprint: fingerprint(cred.secret),
    masked: maskSecret(cred.secret),
    expiresAt: cred.expires_at,
    subscription: null,
  };
}

/** The config dir the CLI itself uses (its own rule: CLAUDE_CONFIG_DIR, else ~/.claude). */
export function claudeConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CLAUDE_CONFIG_DIR) return env.CLAUDE_CONFIG_DIR;
  return env.HOME ? path.join(env.HOME, '.claude') : undefined;
}

function configDirSource(env: NodeJS.ProcessEnv): CredentialSource | undefined {
  const dir = claudeConfigDir(env);
  if (!dir) return undefined;
  const file = path.join(dir, '.credentials.json');
  let oauth: { accessToken?: unknown; refreshToken?: unknown; expiresAt?: unknown; subscriptionType?: unknown } | undefined;
  try {
    oauth = JSON.parse(fs.readFileSync(file, 'utf8'))?.claudeAiOauth;
  } catch {
    return undefined;
  }
  if (!oauth || (typeof oauth.accessToken !== 'string' && typeof oauth.refreshToken !== 'string')) return undefined;
  // The CLI reads (and refreshes) this file itself: the child needs HOME / CLAUDE_CONFIG_DIR, which
  // the allowlist passes, and no credential variable. The access token rotates, so the file names it.
  return {
    id: 'claude_config',
    method: 'claude_login',
    source: `Claude Code login (${file})`,
    env: {},
    fingerprint: fingerprint(`claude_config:${file}`),
    masked: null,
    expiresAt: typeof oauth.expiresAt === 'number' ? new Date(oauth.expiresAt).toISOString() : null,
    subscription: typeof oauth.subscriptionType === 'string' ? oauth.subscriptionType : null,
  };
}

function cloudSource(id: 'bedrock' | 'vertex', flag: string, env: NodeJS.ProcessEnv): CredentialSource | undefined {
  if (!truthy(env[flag])) return undefined;
  // The cloud's own variables travel with it (AWS_*, GOOGLE_*, CLOUD_ML_REGION, VERTEX_REGION_*...).
  const pass: Record<string, string> = {};
  const other = id === 'bedrock' ? /VERTEX|GOOGLE|GCLOUD|CLOUD_ML/ : /BEDROCK|AWS_/;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || !isCredentialEnvName(k) || other.test(k)) continue;
    if (/^(ANTHROPIC_API_KEY|ANTHROPIC_AUTH_TOKEN|CLAUDE_CODE_OAUTH_TOKEN|CLAUDE_CODE_USE_(BEDROCK|VERTEX))$/.test(k)) continue;
    pass[k] = v;
  }
  pass[flag] = '1';
  return { id, method: id, source: `env ${flag}`, env: pass, fingerprint: fingerprint(`${id}:${JSON.stringify(pass)}`), masked: null, expiresAt: null, subscription: null };
}

/** Every source that is present, in precedence order; the first is the active one. */
export function listSources(env: NodeJS.ProcessEnv, store: CredentialsStore): CredentialSource[] {
  const candidates = [
    secretSource('env_api_key', 'api_key', 'ANTHROPIC_API_KEY', env.ANTHROPIC_API_KEY),
    secretSource('env_auth_token', 'auth_token', 'ANTHROPIC_AUTH_TOKEN', env.ANTHROPIC_AUTH_TOKEN),
    secretSource('env_oauth_token', 'oauth_token', 'CLAUDE_CODE_OAUTH_TOKEN', env.CLAUDE_CODE_OAUTH_TOKEN),
    storedSource(store, store.read()),
    configDirSource(env),
    cloudSource('bedrock', 'CLAUDE_CODE_USE_BEDROCK', env),
    cloudSource('vertex', 'CLAUDE_CODE_USE_VERTEX', env),
  ];
  return candidates.filter((s): s is CredentialSource => s !== undefined);
}
