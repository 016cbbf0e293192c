// Claude plan limits as the CLI reports them: for a subscription login it reads the Anthropic API's
// `anthropic-ratelimit-unified-*` response headers (status, reset, representative-claim, overage-status,
// and per window 5h-/7d-utilization and -reset) and emits a `rate_limit_event` frame with what it read
// (SDKRateLimitInfo). The latest one per credential is kept; a window that says `rejected` (and is not
// being paid for as overage) limits that credential until it resets.

export interface PlanWindow {
  utilization: number | null;
  resets_at: string | null;
}

/** What the gateway keeps of a rate_limit_event, in its own JSON (snake case, ISO times). */
export interface PlanLimits {
  status: 'allowed' | 'allowed_warning' | 'rejected';
  /** The window that decides the status now: five_hour, seven_day, ... */
  window: string | null;
  resets_at: string | null;
  using_overage: boolean;
  overage_status: string | null;
  windows: Record<string, PlanWindow>;
  /** When the CLI reported it. */
  at: string;
}

const iso = (unixSec: unknown) => (typeof unixSec === 'number' && Number.isFinite(unixSec) ? new Date(unixSec * 1000).toISOString() : null);

/** The kept form of a frame's rate_limit_info; undefined for anything that is not one. */
export function planLimitsOf(info: unknown, now = Date.now()): PlanLimits | undefined {
  const i = info as Record<string, any> | null;
  if (!i || typeof i !== 'object' || !['allowed', 'allowed_warning', 'rejected'].includes(i.status)) return undefined;
  const windows: Record<string, PlanWindow> = {};
  for (const [name, w] of Object.entries((i.unifiedWindows ?? {}) as Record<string, any>)) {
    windows[name] = { utilization: typeof w?.utilization === 'number' ? w.utilization : null, resets_at: iso(w?.resetsAt ?? w?.resets_at) };
  }
  const window = typeof i.rateLimitType === 'string' ? i.rateLimitType : null;
  if (window && !windows[window] && (typeof i.utilization === 'number' || i.resetsAt)) {
    windows[window] = { utilization: typeof i.utilization === 'number' ? i.utilization : null, resets_at: iso(i.resetsAt) };
  }
  return {
    status: i.status,
    window,
    resets_at: iso(i.resetsAt),
    using_overage: !!i.isUsingOverage,
    overage_status: typeof i.overageStatus === 'string' ? i.overageStatus : null,
    windows,
    at: new Date(now).toISOString(),
  };
}

/** Until when (ms) the plan refuses this credential, or undefined when it does not now. */
export function planBlockedUntil(p: PlanLimits | null | undefined, now = Date.now()): number | undefined {
  if (!p || p.status !== 'rejected' || p.using_overage) return undefined;
  const until = p.resets_at ? Date.parse(p.resets_at) : NaN;
  return Number.isFinite(until) && until > now ? until : undefined;
}

/** The highest utilisation over the windows (0 when none is known): new conversations go where it is lowest. */
export function peakUtilization(p: PlanLimits | null | undefined): number {
  if (!p) return 0;
  return Math.max(0, ...Object.values(p.windows).map((w) => w.utilization ?? 0));
}
