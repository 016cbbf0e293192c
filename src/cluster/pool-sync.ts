// A change to the pool's members made on another replica (or by the `accounts` command): the members
// removed, disabled or given another credential have their idle processes stopped here too (their
// next turns start with what the pool now says), and a member enabled again is tried afresh, as the
// replica where the change was made does (accounts/manage.ts).
import type { Accounts } from '../accounts/accounts.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { SharedDocs } from './shared-docs.js';

type Seen = Map<string, { fingerprint: string; disabled: boolean }>;

const seenOf = (accounts: Accounts): Seen => new Map(accounts.members().map((m) => [m.name, { fingerprint: m.fingerprint, disabled: m.disabled }]));

export function watchPool(docs: SharedDocs, accounts: Accounts, engine: Pick<Engine, 'dropAccount'>, log: Logger): void {
  let before = seenOf(accounts);
  docs.onChange('accounts', () => {
    const after = seenOf(accounts);
    for (const [name, was] of before) {
      const now = after.get(name);
      if (!now || now.fingerprint !== was.fingerprint || (now.disabled && !was.disabled)) void engine.dropAccount(name);
      else if (was.disabled && !now.disabled) accounts.resetHealth(name);
    }
    log.info({ members: [...after.keys()] }, 'cluster: the pool of credentials changed on another replica');
    before = after;
  });
}
