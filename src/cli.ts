#!/usr/bin/env node
// claude-code-gateway [serve|login|status|logout|accounts|keys]: the gateway's command line.
import { accountsCommand } from './accounts/cli-commands.js';
import { keysCommand } from './admin/cli-commands.js';
import { loginCommand, logoutCommand, statusCommand } from './auth/cli-commands.js';
import { ConfigError, loadConfig } from './config/config.js';
import { ClaudeBinaryError } from './engine/claude-binary.js';
import { loginAdvice, startGateway } from './server.js';
import { loginDocs } from './auth/secret-doc.js';
import { openSharedLogin } from './cluster/cluster.js';
import { createLogger } from './log.js';

const HELP = `claude-code-gateway: OpenAI and Anthropic APIs served by the Claude Code CLI

Usage: claude-code-gateway [command]

Commands:
  serve     start the gateway (default)
  login     log in with Claude (runs \`claude setup-token\`); --token reads a token or API key from stdin;
            --name NAME [--priority N] [--role primary|overflow] adds it to the pool of credentials
  accounts  the pool of credentials: list [--json] | disable NAME | enable NAME | remove NAME
  status    show the Claude credentials in use and whether they work (--json); exit 1 if not logged in
  logout    remove the credential stored by login
  keys      app keys: keys create --name NAME [--models a,b] [--rpm N] [--tpm N] [--daily-tokens N]
            [--monthly-tokens N] [--expires-at ISO-DATE], keys list, keys revoke KEY_ID (--json for JSON)
  help      show this text

Configuration is by environment (GATEWAY_HOST, GATEWAY_PORT, GATEWAY_API_KEY, GATEWAY_DATA_DIR,
GATEWAY_CLAUDE_PATH, ...) and optionally a YAML file named by GATEWAY_CONFIG; see the README.`;

async function serveCommand(): Promise<void> {
  const config = loadConfig();
  const prewarm = (process.env.GATEWAY_PREWARM_MODELS ?? 'sonnet').split(',').map((s) => s.trim()).filter(Boolean);
  const gw = await startGateway({ config, prewarm });
  // The handlers first: the banner says the gateway is ready, and a SIGTERM sent on seeing it must drain
  // (not meet the default action, which ends the process and leaves its CLI processes' folders).
  let signals = 0;
  const shutdown = (sig: string) => {
    if (signals++) process.exit(1);
    process.stderr.write(`${sig}: draining (up to ${config.drainTimeoutMs} ms)\n`);
    void gw.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const key = gw.keys[0];
  const shown = config.apiKeys.length ? '(the key from GATEWAY_API_KEY)' : key;
  process.stdout.write(`\nclaude-code-gateway ${gw.cliVersion}\n  OpenAI base URL:    ${gw.url}/v1\n  Anthropic base URL: ${gw.url}\n  API key:            ${shown}\n\n`);
  const login = loginAdvice(gw.auth, gw.url);
  if (login) process.stdout.write(`  ! ${login}\n\n`);
}

/** With GATEWAY_REDIS_URL the login commands work on the shared login every replica reads (cluster/). */
async function withSharedLogin(command: () => Promise<number>): Promise<number> {
  const shared = await openSharedLogin(loadConfig(), createLogger('silent'));
  if (shared) Object.assign(loginDocs, { credentials: shared.docs.doc('credentials'), accounts: shared.docs.doc('accounts') });
  try {
    return await command();
  } finally {
    await shared?.close();
  }
}

async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'serve';
  switch (cmd) {
    case 'serve':
      return serveCommand();
    case 'login':
      process.exitCode = await withSharedLogin(() => loginCommand(process.argv.slice(3)));
      return;
    case 'status':
      process.exitCode = await withSharedLogin(() => statusCommand(process.argv.slice(3)));
      return;
    case 'logout':
      process.exitCode = await withSharedLogin(() => logoutCommand());
      return;
    case 'keys':
      process.exitCode = await keysCommand(process.argv.slice(3));
      return;
    case 'accounts':
      process.exitCode = await withSharedLogin(() => accountsCommand(process.argv.slice(3)));
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP + '\n');
      return;
    default:
      process.stderr.write(`unknown command: ${cmd}\n\n${HELP}\n`);
      process.exit(2);
  }
}

main().catch((err) => {
  if (err instanceof ConfigError || err instanceof ClaudeBinaryError) {
    process.stderr.write(`claude-code-gateway: ${err.message}\n`);
    process.exit(1);
  }
  // A file-system refusal outside the data dir's checks (server.ts): still a message, not a stack.
  if (err?.syscall && err?.path && ['EACCES', 'EPERM', 'EROFS'].includes(err.code)) {
    process.stderr.write(`claude-code-gateway: ${err.message}: the gateway runs as uid ${process.getuid?.()}, gid ${process.getgid?.()}; make ${err.path} writable for that user.\n`);
    process.exit(1);
  }
  process.stderr.write(`claude-code-gateway: ${err?.stack ?? err}\n`);
  process.exit(1);
});
