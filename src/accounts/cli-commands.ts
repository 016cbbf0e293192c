// `claude-code-gateway accounts list|disable|enable|remove` and the pool side of `login --name NAME`:
// the same file a running gateway reads (it picks changes up on its next turn). A member added here is
// verified by the gateway's first turn with it (or now, with POST /auth/accounts from the API).
import { maskSecret } from '../auth/credentials-store.js';
import { AuthService } from '../auth/auth-service.js';
import { loginDocs } from '../auth/secret-doc.js';
import { loadConfig } from '../config/config.js';
import { GatewayError } from '../errors.js';
import { createLogger } from '../log.js';
import { Accounts } from './accounts.js';
import { removeAccount, setDisabled, storeAccount } from './manage.js';
import { roleSchema, type AccountRole } from './store.js';

const say = (s: string) => process.stdout.write(s + '\n');
const warn = (s: string) => process.stderr.write(s + '\n');

function pool(): Accounts {
  const config = loadConfig();
  const log = createLogger('silent');
  const auth = new AuthService({ dataDir: config.dataDir, env: process.env, log, cliVersion: null, doc: loginDocs.credentials });
  return new Accounts({ dataDir: config.dataDir, env: process.env, log, defaultSource: () => auth.current(), doc: loginDocs.accounts });
}

export interface PoolLoginArgs {
  name: string;
  priority?: number;
  role?: AccountRole;
}

/** `--name NAME [--priority N] [--role primary|overflow]`; undefined without --name. Throws a message on bad values. */
export function poolLoginArgs(args: string[]): PoolLoginArgs | undefined {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value.`);
    return v;
  };
  const name = value('--name');
  const priority = value('--priority');
  const role = value('--role');
  if (name === undefined) {
    if (priority !== undefined || role !== undefined) throw new Error('--priority and --role go with --name NAME (a credential of the pool).');
    return undefined;
  }
  if (priority !== undefined && !/^-?\d{1,6}$/.test(priority)) throw new Error('--priority is a whole number (lower is used first).');
  if (role !== undefined && !roleSchema.safeParse(role).success) throw new Error('--role is primary or overflow.');
  return { name, priority: priority === undefined ? undefined : Number(priority), role: role as AccountRole | undefined };
}

/** Store a login under a name in the pool. Exit code. */
export function storePoolLogin(a: PoolLoginArgs, secret: string, origin: 'setup-token' | 'pasted', expiresAt: string | null): number {
  const accounts = pool();
  try {
    storeAccount(accounts, { ...a, token: secret, origin, expiresAt });
  } catch (e) {
    if (e instanceof GatewayError) {
      warn(e.message);
      return 1;
    }
    throw e;
  }
  say(`Stored '${a.name}' (${maskSecret(secret)}) in the pool, ${accounts.store.where}. A running gateway uses it from its next turn.`);
  return 0;
}

export async function accountsCommand(args: string[]): Promise<number> {
  const [sub, name] = args;
  const accounts = pool();
  try {
    switch (sub) {
      case undefined:
      case 'list': {
        const list = accounts.members();
        if (args.includes('--json')) {
          say(JSON.stringify(list.map((m) => ({ name: m.name, kind: m.kind, origin: m.origin, role: m.role, priority: m.priority, disabled: m.disabled, credential: m.masked })), null, 2));
          return 0;
        }
        if (!list.length) say('No Claude credentials: log in with `claude-code-gateway login [--name NAME]`.');
        for (const m of list) {
          say(`${m.name.padEnd(16)}${m.kind.padEnd(14)}${m.role.padEnd(9)}priority ${String(m.priority).padEnd(5)}${m.disabled ? 'disabled ' : ''}${m.masked ?? ''}  (${m.source})`);
        }
        if (list.length) say('Live state (cooling down, refused, plan windows): GET /auth/status on the running gateway.');
        return 0;
      }
      case 'disable':
      case 'enable':
      case 'remove':
        if (!name) {
          warn(`usage: claude-code-gateway accounts ${sub} NAME`);
          return 2;
        }
        if (sub === 'remove') removeAccount(accounts, name);
        else setDisabled(accounts, name, sub === 'disable');
        say(`${sub === 'remove' ? 'Removed' : sub === 'disable' ? 'Disabled' : 'Enabled'} '${name}'.`);
        return 0;
      default:
        warn(`unknown accounts command: ${sub} (list, disable NAME, enable NAME, remove NAME)`);
        return 2;
    }
  } catch (e) {
    if (e instanceof GatewayError) {
      warn(e.message);
      return 1;
    }
    throw e;
  }
}
