// Conversation affinity without sticky sessions. Before the engine plans a turn, this names the
// conversation point the request's history ends at (the same hash conversations/ keys points by) and
// looks up who recorded it: when it is a live peer (registered in the shared store) and this replica
// does not hold the point's process itself, the request is forwarded to that peer over the signed hop
// and its answer is the client's. When the peer is gone, refuses (no longer holds it, or drains) or
// does not accept the connection in time, the turn is served here as before (resumed from the store).
// On the receiving side, a forwarded request for a point this replica no longer holds is refused.
import type { Context } from 'hono';
import { chainStart, extendChain, splitTurn } from '../conversations/history.js';
import { POINT_NS } from '../conversations/conversations.js';
import type { ConversationStore } from '../conversations/stores/store.js';
import type { Engine } from '../engine/engine.js';
import { planTools } from '../engine/tool-requests.js';
import { shapeTurn } from '../engine/turn-shape.js';
import type { TurnContext, TurnRequest } from '../engine/types.js';
import { rawBodyOf } from '../http/body.js';
import { requestScope } from '../http/request-scope.js';
import { ResponseInstead } from '../http/respond.js';
import type { Logger } from '../log.js';
import { forward, hopOf, refusal } from './hop.js';
import type { Peer, Registry } from './registry.js';

/** What a conversation point's record says of the replica that kept its process live (conversations.ts). */
export interface PointOwner {
  replica?: Peer;
}

export interface AffinityDeps {
  engine: Pick<Engine, 'resolveModel' | 'conversations'>;
  store: ConversationStore;
  registry: Registry;
  hopKey: Buffer;
  connectTimeoutMs: number;
  isDraining: () => boolean;
  log: Logger;
}

export class Affinity {
  /** Turns sent to their owner, served here after a refusal, or served here because the owner was unreachable. */
  readonly counts = { forwarded: 0, refused: 0, unreachable: 0, received: 0, declined: 0 };

  constructor(private readonly deps: AffinityDeps) {}

  /** The point a request's history ends at, or undefined when it has none (or the engine will refuse it anyway). */
  pointOf(req: TurnRequest, ctx: TurnContext): string | undefined {
    try {
      const model = this.deps.engine.resolveModel(req.model);
      const { conversationKey } = shapeTurn(req, model, planTools(req).tools);
      const { history } = splitTurn(req.messages);
      if (!history.length) return undefined;
      return extendChain(chainStart(ctx.owner ?? 'anonymous', conversationKey), history);
    } catch {
      return undefined; // the engine reports what is wrong with the request, in the dialect's shape
    }
  }

  /** Engine hook, before a turn is planned: forward it to the live owner, refuse a stale hop, or let it run here. */
  async beforeTurn(req: TurnRequest, ctx: TurnContext): Promise<void> {
    const c = requestScope.getStore()?.c;
    if (!c || ctx.account) return;
    const hop = hopOf(c);
    if (hop) return this.receive(req, ctx, hop.from);
    const body = rawBodyOf(c);
    if (!body) return;
    const point = this.pointOf(req, ctx);
    if (!point || this.deps.engine.conversations.live.has(point)) return;
    const rec = await this.deps.store.getRecord<PointOwner>(POINT_NS, point).catch(() => undefined);
    const owner = rec?.replica;
    if (!owner || owner.id === this.deps.registry.self.id) return;
    // Only a peer registered in the shared store, at the URL it registered: never an address from a request.
    const peer = this.deps.registry.peer(owner.id, owner.url);
    if (!peer) return;
    await this.send(c, peer, body);
  }

  private async send(c: Context, peer: Peer, body: Uint8Array): Promise<void> {
    const url = new URL(c.req.url);
    const outcome = await forward(peer, this.deps.registry.self.id, this.deps.hopKey, { method: c.req.method, path: url.pathname + url.search, headers: c.req.raw.headers, body, signal: c.req.raw.signal }, this.deps.connectTimeoutMs);
    if (outcome.kind === 'answered') {
      this.counts.forwarded++;
      throw new ResponseInstead(outcome.response);
    }
    this.counts[outcome.kind]++;
    this.deps.log.info({ peer: peer.id, outcome: outcome.kind, why: outcome.kind === 'unreachable' ? outcome.why : undefined }, 'cluster: the owner of a live conversation did not take the turn: served here');
  }

  private receive(req: TurnRequest, ctx: TurnContext, from: string): void {
    const point = this.pointOf(req, ctx);
    if (!this.deps.isDraining() && point && this.deps.engine.conversations.live.has(point)) {
      this.counts.received++;
      return;
    }
    this.counts.declined++;
    this.deps.log.debug({ from }, 'cluster: declined a forwarded turn (its process is no longer here)');
    throw new ResponseInstead(refusal(this.deps.isDraining() ? 'This replica is draining.' : 'This replica no longer holds that conversation live.'));
  }
}
