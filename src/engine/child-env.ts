// The CLI child gets an allowlisted environment: what Claude Code needs to authenticate and reach
// its API, nothing else of the gateway's (no GATEWAY_* secrets, no unrelated credentials).

const EXACT = new Set([
  'HOME',
  'PATH',
  'LANG',
  'LC_ALL',
  'TZ',
  // Passed on, but each engine process gets a TMPDIR of its own under it (processes/process-tmp.ts).
  'TMPDIR',
  'USER',
  'CLAUDE_CONFIG_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Vertex AI
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'CLOUD_ML_REGION',
]);
const PREFIXES = ['ANTHROPIC_', 'CLAUDE_CODE_', 'AWS_', 'VERTEX_REGION_'];

export function allowlistedEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    if (EXACT.has(k) || PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

/** Variables that carry (or select) Anthropic credentials. The auth layer picks one source and the
 * child gets only that source's variables, so a lower-precedence credential never rides along. */
const CREDENTIAL_EXACT = new Set([
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_REFRESH_TOKEN',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_SKIP_BEDROCK_AUTH',
  'CLAUDE_CODE_SKIP_VERTEX_AUTH',
  'ANTHROPIC_BEDROCK_BASE_URL',
  'ANTHROPIC_VERTEX_BASE_URL',
  'ANTHROPIC_VERTEX_PROJECT_ID',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'CLOUD_ML_REGION',
]);
const CREDENTIAL_PREFIXES = ['AWS_', 'VERTEX_REGION_'];

export function isCredentialEnvName(name: string): boolean {
  return CREDENTIAL_EXACT.has(name) || CREDENTIAL_PREFIXES.some((p) => name.startsWith(p));
}

export function withoutCredentials(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !isCredentialEnvName(k)));
}

/** What the gateway always sets for its children, whatever the operator's env says. */
export function gatewayCliEnv(maxRetries: number): Record<string, string> {
  return {
    CLAUDE_CODE_MAX_RETRIES: String(maxRetries),
    // No telemetry, update checks or other side traffic from a server process.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_AGENT_SDK_CLIENT_APP: 'claude-code-gateway/0.1.0',
  };
}
