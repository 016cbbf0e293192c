// The pool of Claude credentials and the scheduler over it. The engine asks pick() which credential a
// turn runs with (a conversation's own one while it is healthy, else the healthiest: primaries before
// overflow, then priority, then the lowest plan utilisation, then the least recently limited), and
// reports how each turn ended: a limit or refusal takes the credential out of rotation until its reset
// or a new login, and the engine retries the turn on the next credential before the client has a byte.
// Everything here is plain data for the status page, the dashboard and /metrics (snapshot()).
import type { SecretDoc } from '../auth/secret-doc.js';
import type { CredentialSource } from '../auth/sources.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { isCredentialFailure, NoCredentialLeft } from './failures.js';
import { parseDeclaredAccounts, type DeclaredPool } from './declared.js';
import { listMembers, type Member } from './members.js';
import { peakUtilization, planBlockedUntil, planLimitsOf, type PlanLimits } from './plan-limits.js';
import { AccountStore, DEFAULT_ACCOUNT } from './store.js';

export type AccountState = 'active' | 'cooling_down' | 'refused' | 'disabled' | 'verifying';

/** What the gateway has seen of one credential (kept in memory; a new login under the name starts afresh). */
interface Health {
  fingerprint: string;
  coolingUntil: number;
  coolingWhy: string | null;
  refused: { at: number; reason: string } | null;
  lastLimitedAt: number;
  verifiedAt: number | null;
  plan: PlanLimits | null;
  turns: number;
}

export interface AccountSnapshot {
  name: string;
  kind: string;
  origin: Member['origin'];
  role: Member['role'];
  priority: number;
  /** A short suffix of the secret, when it has one. */
  credential: string | null;
  state: AccountState;
  /** While cooling down (a limit): when it is tried again. */
  cooling_down_until: string | null;
  reason: string | null;
  last_verified_at: string | null;
  last_limited_at: string | null;
  expires_at: string | null;
  plan: PlanLimits | null;
  turns_served: number;
  live_conversations: number;
}

/** What other replicas learn of a limited credential (cluster/shared-plan.ts), keyed by its fingerprint. */
export interface SharedLimit {
  coolingUntil: number;
  coolingWhy: string | null;
  lastLimitedAt: number;
  plan: PlanLimits | null;
}

export interface AccountsDeps {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The gateway's original credential (auth/), the pool's "default" member. */
  defaultSource: () => CredentialSource | undefined;
  now?: () => number;
  /** Where the pool's own members are kept: the file in the data dir unless given (the shared store, cluster/). */
  doc?: SecretDoc;
}

export class Accounts {
  readonly store: AccountStore;
  private readonly declared: DeclaredPool;
  private readonly health = new Map<string, Health>();
  /** Members being verified before they are stored: only a forced turn may use them. */
  private readonly pending = new Map<string, Member>();
  /** Told when a credential becomes limited here, so every replica skips it (cluster/shared-plan.ts). */
  onLimited: ((fingerprint: string, limit: SharedLimit) => void) | undefined;
  /** Live conversation processes per member (engine reports it). */
  liveCount: (name: string) => number = () => 0;
  private readonly now: () => number;

  constructor(private readonly deps: AccountsDeps) {
    this.store = new AccountStore(deps.dataDir, deps.doc);
    this.declared = parseDeclaredAccounts(deps.env.GATEWAY_ACCOUNTS);
    this.now = deps.now ?? Date.now;
  }

  /** Every member, in declaration order (the default first). */
  members(): Member[] {
    return [...listMembers(this.deps.defaultSource(), this.store.read(), this.declared), ...this.pending.values()];
  }

  member(name: string): Member | undefined {
    return this.members().find((m) => m.name === name);
  }

  /** The pool is more than the original credential: turns name their credential. */
  get pooled(): boolean {
    return this.members().some((m) => m.name !== DEFAULT_ACCOUNT);
  }

  /** The credential variables a member's processes get; undefined for the default (and unknown names). */
  envOf(name: string): Record<string, string> | undefined {
    return this.member(name)?.env;
  }

  private healthOf(m: Member): Health {
    let h = this.health.get(m.name);
    if (!h || h.fingerprint !== m.fingerprint) {
      h = { fingerprint: m.fingerprint, coolingUntil: 0, coolingWhy: null, refused: null, lastLimitedAt: 0, verifiedAt: null, plan: null, turns: 0 };
      this.health.set(m.name, h);
    }
    return h;
  }

  /** Until when a member is limited (its own cooldown or its plan window), if it is now. */
  private limitedUntil(m: Member, now = this.now()): number | undefined {
    const h = this.healthOf(m);
    const until = Math.max(h.coolingUntil, planBlockedUntil(h.plan, now) ?? 0);
    return until > now ? until : undefined;
  }

  stateOf(m: Member, now = this.now()): AccountState {
    if (this.pending.has(m.name)) return 'verifying';
    if (m.disabled) return 'disabled';
    if (this.healthOf(m).refused) return 'refused';
    return this.limitedUntil(m, now) ? 'cooling_down' : 'active';
  }

  /**
   * The credential a turn runs with: `preferred` (the conversation's own) while it is active and not
   * an overflow member a primary could replace; else the healthiest active member not yet `tried`.
   * With none active, on a first try: a 429 with the earliest reset when every usable one is at its
   * plan limit (no CLI turn); else the one whose cooldown ends first, or (all refused) the original
   * credential, so a lone credential fails exactly as it always did. On a retry with nothing left: the
   * earliest reset when several are all limited, else NoCredentialLeft (the failure that caused it stands).
   */
  pick(preferred?: string, tried: ReadonlySet<string> = new Set(), forced?: string): string | undefined {
    if (forced) return forced;
    const now = this.now();
    const all = this.members().filter((m) => !m.disabled && !this.pending.has(m.name));
    if (!all.length) return undefined;
    const active = all.filter((m) => !tried.has(m.name) && this.stateOf(m, now) === 'active');
    const primaries = active.filter((m) => m.role === 'primary');
    const pref = active.find((m) => m.name === preferred);
    if (pref && (pref.role === 'primary' || !primaries.length)) return pref.name;
    const candidates = primaries.length ? primaries : active;
    if (candidates.length) {
      const order = all.map((m) => m.name);
      const rank = (m: Member) => [m.priority, peakUtilization(this.healthOf(m).plan), this.healthOf(m).lastLimitedAt, order.indexOf(m.name)];
      candidates.sort((a, b) => {
        const ra = rank(a);
        const rb = rank(b);
        for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
        return 0;
      });
      return candidates[0].name;
    }
    const limited = all.map((m) => ({ m, until: this.limitedUntil(m, now) })).filter((x): x is { m: Member; until: number } => x.until !== undefined);
    const unrefused = all.filter((m) => !this.healthOf(m).refused);
    if (!tried.size) {
      // A plan window that is used up is certain: no CLI turn starts until it resets.
      const planBlocked = unrefused.filter((m) => planBlockedUntil(this.healthOf(m).plan, now) !== undefined);
      if (unrefused.length && planBlocked.length === unrefused.length) throw this.allLimited(limited, now);
      // A 429 or an overload may be over sooner than it said: the one that ends first is tried again.
      const soft = limited.filter((x) => !planBlocked.includes(x.m) && !this.healthOf(x.m).refused).sort((a, b) => a.until - b.until);
      if (soft.length) return (soft.find((x) => x.m.name === preferred) ?? soft[0]).m.name;
      return (all.find((m) => m.name === preferred) ?? all[0]).name;
    }
    // A retry with nothing left: with several credentials all limited, the earliest reset; else the last failure stands.
    if (all.length > 1 && unrefused.length && limited.length === unrefused.length) throw this.allLimited(limited, now);
    throw new NoCredentialLeft();
  }

  private allLimited(limited: { m: Member; until: number }[], now: number): GatewayError {
    const earliest = limited.reduce((a, b) => (b.until < a.until ? b : a));
    const retryAfterSec = Math.max(1, Math.ceil((earliest.until - now) / 1000));
    const at = new Date(earliest.until).toISOString();
    const plan = this.healthOf(earliest.m).plan;
    const planWindow = planBlockedUntil(plan, now) === earliest.until ? plan?.window : undefined;
    const what = limited.length === 1 && this.members().filter((m) => !m.disabled).length === 1 ? 'The Claude credential of this gateway is' : 'Every Claude credential of this gateway is';
    const why = planWindow ? `${what} at its plan limit (the ${planWindow.replace('_', '-')} window)` : `${what} rate limited`;
    return new GatewayError('rate_limited', `${why}; the earliest is available again at ${at}. Retry after the indicated delay.`, {
      retryAfterSec,
      code: planWindow ? 'plan_limit_reached' : 'upstream_rate_limited',
    });
  }

  /** A turn on this member ended well: it works (verified now). */
  onSuccess(name: string | undefined): void {
    const m = name && this.member(name);
    if (!m) return;
    const h = this.healthOf(m);
    h.verifiedAt = this.now();
    h.refused = null;
    h.turns++;
  }

  /** The CLI reported plan windows for this member's login (a rate_limit_event frame). */
  onRateLimit(name: string | undefined, info: unknown): void {
    const m = name && this.member(name);
    const p = m && planLimitsOf(info, this.now());
    if (!m || !p) return;
    const h = this.healthOf(m);
    const wasBlocked = planBlockedUntil(h.plan, this.now()) !== undefined;
    h.plan = p;
    if (planBlockedUntil(p, this.now()) !== undefined && !wasBlocked) {
      h.lastLimitedAt = this.now();
      this.deps.log.warn({ account: m.name, window: p.window, resetsAt: p.resets_at }, 'claude plan window exhausted');
      this.share(h);
    }
  }

  /**
   * A turn on this member failed with `e`. A limit or refusal takes it out of rotation (until its
   * reset, or a new login); true when the failure is the credential's, so another one may serve the turn.
   */
  onFailure(name: string | undefined, e: unknown): boolean {
    const m = name && this.member(name);
    if (!m || !isCredentialFailure(e)) return false;
    const h = this.healthOf(m);
    const now = this.now();
    if (e.kind === 'upstream_auth' || e.kind === 'permission') {
      h.refused = { at: now, reason: e.kind === 'permission' ? 'the Anthropic API refused it (permission_error)' : 'the Anthropic API refused it (authentication failed): log in again' };
      this.deps.log.warn({ account: m.name, kind: e.kind }, 'claude credential refused');
    } else {
      // A plan window the CLI just reported exhausted governs by itself (its exact reset); else the delay the error carries.
      if (planBlockedUntil(h.plan, now) === undefined) h.coolingUntil = Math.max(h.coolingUntil, now + (e.extra.retryAfterSec ?? 10) * 1000);
      h.coolingWhy = e.kind === 'rate_limited' ? 'rate limited by the Anthropic API' : 'the Anthropic API was overloaded';
      if (e.kind === 'rate_limited') h.lastLimitedAt = now;
      this.deps.log.warn({ account: m.name, kind: e.kind, until: new Date(h.coolingUntil).toISOString() }, 'claude credential cooling down');
      this.share(h);
    }
    return true;
  }

  private share(h: Health): void {
    this.onLimited?.(h.fingerprint, { coolingUntil: h.coolingUntil, coolingWhy: h.coolingWhy, lastLimitedAt: h.lastLimitedAt, plan: h.plan });
  }

  /** Another replica found this credential limited: it is skipped here too, until the later of the two resets. */
  applyShared(fingerprint: string, limit: SharedLimit): void {
    for (const m of this.members()) {
      if (m.fingerprint !== fingerprint) continue;
      const h = this.healthOf(m);
      if (limit.coolingUntil > h.coolingUntil) {
        h.coolingUntil = limit.coolingUntil;
        h.coolingWhy = limit.coolingWhy;
      }
      h.lastLimitedAt = Math.max(h.lastLimitedAt, limit.lastLimitedAt);
      const theirs = planBlockedUntil(limit.plan, this.now()) ?? 0;
      if (limit.plan && theirs > (planBlockedUntil(h.plan, this.now()) ?? 0)) h.plan = limit.plan;
    }
  }

  snapshot(): AccountSnapshot[] {
    const now = this.now();
    return this.members().map((m) => {
      const h = this.healthOf(m);
      const state = this.stateOf(m, now);
      const until = this.limitedUntil(m, now);
      const planBlocked = planBlockedUntil(h.plan, now);
      return {
        name: m.name,
        kind: m.kind,
        origin: m.origin,
        role: m.role,
        priority: m.priority,
        credential: m.masked,
        state,
        cooling_down_until: until ? new Date(until).toISOString() : null,
        reason:
          state === 'refused'
            ? h.refused!.reason
            : state === 'cooling_down'
              ? planBlocked === until
                ? `plan limit reached (${h.plan?.window ?? 'a window'})`
                : h.coolingWhy
              : null,
        last_verified_at: h.verifiedAt ? new Date(h.verifiedAt).toISOString() : null,
        last_limited_at: h.lastLimitedAt ? new Date(h.lastLimitedAt).toISOString() : null,
        expires_at: m.expiresAt,
        plan: h.plan,
        turns_served: h.turns,
        live_conversations: this.liveCount(m.name),
      };
    });
  }

  /** Forget what was seen of a member (an operator enabled it again): it is tried afresh. */
  resetHealth(name: string): void {
    this.health.delete(name);
  }

  /** Hold a member (not yet stored) that only a forced turn may use, while it is verified. */
  holdPending(m: Member): void {
    this.pending.set(m.name, m);
  }

  /** A verified member is stored: it joins the pool with what its verification showed (kept health). */
  promotePending(name: string): void {
    this.pending.delete(name);
  }

  dropPending(name: string): void {
    this.pending.delete(name);
    this.health.delete(name);
  }
}
