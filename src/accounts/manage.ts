// Adding, disabling and removing pool members, for /auth and the command line. A new member is
// verified with a real request before it is stored (the HTTP API; the command line in another process
// stores it and the running gateway verifies it on its first turn): one the Anthropic API refuses is
// never stored, and nothing else in the pool changes.
import { classifySecret } from '../auth/credentials-store.js';
import type { Engine } from '../engine/engine.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Accounts, AccountSnapshot } from './accounts.js';
import { listMembers } from './members.js';
import { ACCOUNT_NAME, AccountStore, DEFAULT_ACCOUNT, type AccountRole, type StoredAccount } from './store.js';

export interface NewAccount {
  name: string;
  token: string;
  priority?: number;
  role?: AccountRole;
  origin?: StoredAccount['origin'];
  expiresAt?: string | null;
}

const notFound = (name: string) => new GatewayError('not_found', `There is no Claude credential named '${name}' in the pool.`, { param: 'name', code: 'account_not_found' });

/** Checks a new member against the pool; returns the record to store. Throws a 400 that says what is wrong. */
export function newStoredAccount(accounts: Pick<Accounts, 'members'>, a: NewAccount): StoredAccount {
  if (!ACCOUNT_NAME.test(a.name)) {
    throw new GatewayError('invalid_request', `'${a.name}' is not a valid name: use 1-40 letters, digits, "_", "." or "-", starting with a letter or digit.`, { param: 'name', code: 'invalid_value' });
  }
  if (a.name === DEFAULT_ACCOUNT || accounts.members().some((m) => m.name === a.name)) {
    throw new GatewayError('invalid_request', `A credential named '${a.name}' is already in the pool: choose another name, or remove that one first.`, { param: 'name', code: 'duplicate_name' });
  }
  const kind = classifySecret(a.token.trim());
  if (!kind) {
    throw new GatewayError('invalid_request', 'That is neither a Claude token (sk-ant-oat01-…) nor an Anthropic API key (sk-ant-api03-…). Copy it again, whole.', { param: 'token', code: 'invalid_value' });
  }
  return AccountStore.parseAccount({
    name: a.name,
    kind,
    secret: a.token.trim(),
    origin: a.origin ?? 'pasted',
    priority: a.priority ?? 0,
    role: a.role ?? 'primary',
    expires_at: a.expiresAt ?? null,
  });
}

/** Store a member without verifying it (the command line: the gateway verifies it on its first turn). */
export function storeAccount(accounts: Pick<Accounts, 'members' | 'store'>, a: NewAccount): StoredAccount {
  const rec = newStoredAccount(accounts, a);
  accounts.store.update((f) => ({ ...f, accounts: [...f.accounts, rec] }));
  return rec;
}

/** Enable or disable a member; the default and environment members are disabled by name in the file. */
export function setDisabled(accounts: Pick<Accounts, 'members' | 'store'>, name: string, disabled: boolean): void {
  const m = accounts.members().find((x) => x.name === name);
  if (!m) throw notFound(name);
  accounts.store.update((f) => {
    if (m.origin === 'stored') return { ...f, accounts: f.accounts.map((a) => (a.name === name ? { ...a, disabled } : a)) };
    const others = f.disabled.filter((n) => n !== name);
    return { ...f, disabled: disabled ? [...others, name] : others };
  });
}

/** Remove a stored member. The default and environment members are removed where they are declared. */
export function removeAccount(accounts: Pick<Accounts, 'members' | 'store'>, name: string): void {
  const m = accounts.members().find((x) => x.name === name);
  if (!m) throw notFound(name);
  if (m.origin !== 'stored') {
    const where = m.origin === 'env' ? 'GATEWAY_ACCOUNTS' : `its source (${m.source}; for the stored login: /auth "Log out" or \`claude-code-gateway logout\`)`;
    throw new GatewayError('invalid_request', `The credential '${name}' is declared in ${where}, not stored in the pool: remove it there, or disable it here.`, { param: 'name', code: 'account_not_removable' });
  }
  accounts.store.update((f) => ({ ...f, accounts: f.accounts.filter((a) => a.name !== name) }));
}

/** The pool's management with the running engine: verification on add, processes stopped on remove. */
export class AccountAdmin {
  constructor(
    readonly accounts: Accounts,
    private readonly engine: Pick<Engine, 'start' | 'catalog' | 'dropAccount'>,
    private readonly log: Logger,
  ) {}

  list(): AccountSnapshot[] {
    return this.accounts.snapshot();
  }

  /** Verify a new member with the smallest real request, then store it; a refused one is not stored. */
  async add(a: NewAccount, signal: AbortSignal): Promise<AccountSnapshot> {
    const rec = newStoredAccount(this.accounts, a);
    const [member] = listMembers(undefined, { accounts: [rec], disabled: [] }, { accounts: [] });
    this.accounts.holdPending(member);
    try {
      const model = this.engine.catalog?.get('haiku') ? 'haiku' : 'default';
      const turn = await this.engine.start({ model, maxOutputTokens: 16, messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the word OK.' }] }] }, signal, { account: rec.name });
      for await (const ev of turn.events) if (ev.type === 'done') break;
    } catch (e) {
      this.accounts.dropPending(rec.name);
      const why = e instanceof GatewayError ? e.message : 'the request failed inside the gateway';
      this.log.warn({ account: rec.name, kind: e instanceof GatewayError ? e.kind : 'internal' }, 'a new claude credential failed verification: not stored');
      throw new GatewayError('invalid_request', `The credential '${rec.name}' was not added: a test request with it failed. ${why}`, { param: 'token', code: 'verification_failed' });
    }
    this.accounts.store.update((f) => ({ ...f, accounts: [...f.accounts, rec] }));
    this.accounts.promotePending(rec.name);
    this.log.info({ account: rec.name, kind: rec.kind, role: rec.role, priority: rec.priority }, 'claude credential added to the pool');
    return this.list().find((x) => x.name === rec.name)!;
  }

  async setDisabled(name: string, disabled: boolean): Promise<AccountSnapshot> {
    setDisabled(this.accounts, name, disabled);
    if (disabled) await this.engine.dropAccount(name);
    // Enabling is the operator's word that it may work again: a refusal or cooldown seen before is forgotten.
    else this.accounts.resetHealth(name);
    this.log.info({ account: name, disabled }, 'claude credential ' + (disabled ? 'disabled' : 'enabled'));
    return this.list().find((x) => x.name === name)!;
  }

  async remove(name: string): Promise<void> {
    removeAccount(this.accounts, name);
    await this.engine.dropAccount(name);
    this.log.info({ account: name }, 'claude credential removed from the pool');
  }
}
