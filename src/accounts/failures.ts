// Which failures are the credential's (so another credential may serve the turn).
import { GatewayError } from '../errors.js';

/** Failures that say the credential (not the request) is the problem: the turn goes to another one. */
export function isCredentialFailure(e: unknown): e is GatewayError {
  if (!(e instanceof GatewayError)) return false;
  return (
    e.kind === 'upstream_auth' ||
    (e.kind === 'permission' && e.extra.code === 'upstream_permission_denied') ||
    (e.kind === 'rate_limited' && (e.extra.code === 'upstream_rate_limited' || e.extra.code === 'plan_limit_reached')) ||
    (e.kind === 'overloaded' && e.extra.code === 'upstream_unavailable')
  );
}

/** Thrown by Accounts.pick when every credential has been tried for this turn: the last failure stands. */
export class NoCredentialLeft extends Error {}
