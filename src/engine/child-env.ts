// The CLI child gets an allowlisted environment: what Claude Code needs to authenticate and reach
// its API, nothing else of the gateway's (no GATEWAY_* secrets, no unrelated credentials).

const EXACT = new Set([
  'HOME',
  'PATH',
  'LANG',
  'LC_ALL',
  'TZ',
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
