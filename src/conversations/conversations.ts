// Every conversation is a real Claude Code session. For each request this decides how its turn
// reaches that session, in order of cost:
//   live      the idle process that holds exactly this history takes the new user turn;
//   resumed   a process starts on the stored transcript, at the point this history ends;
//   imported  a history the gateway never served is written as a transcript, then resumed;
//   new       no history: a fresh (warm) process;
//   flattened the last resort for a history that cannot be real turns (counted and logged).
// After a clean turn, finish() records the new conversation point and keeps the process live.
import crypto from 'node:crypto';
import type { CliProcess } from '../engine/cli-process.js';
import { renderPrompt, toBlocks, type AnthropicBlock } from '../engine/prompt.js';
import type { ChatMessage } from '../engine/types.js';
import type { Logger } from '../log.js';
import { chainStart, extendChain, splitTurn } from './history.js';
import type { ConversationPath, ConversationPlan, ConversationPort, ConversationWiring, PlanInput, ResumeTarget, TranscriptTap } from '../engine/conversation-port.js';
import type { LiveSessions } from '../engine/processes/live-sessions.js';
import { branchTo, SessionTap, TapShared } from './session-tap.js';
import type { ConversationStore } from './stores/store.js';
import { captureTemplate } from './template-capture.js';
import { NotExpressible, writeTranscript } from './transcript.js';

export type { ConversationPath, ConversationPlan, PlanInput, ResumeTarget };

interface PointRecord {
  sessionId: string;
  leaf: string;
  /** The credential the session ran with (absent: written before the pool, the default one). */
  account?: string;
  /** With several replicas: the one that kept the process live (cluster/affinity.ts forwards to it). */
  replica?: { id: string; url: string };
}

/** The default credential's name (accounts/store.ts): records without an account belong to it. */
const DEFAULT_ACCOUNT = 'default';
const sameAccount = (a: string | undefined, b: string | undefined) => (a ?? DEFAULT_ACCOUNT) === (b ?? DEFAULT_ACCOUNT);

export const POINT_NS = 'point';
const THINKING_NS = 'thinking';
/** Thinking signatures belong to one account: the default keeps the scope it had before the pool. */
const signatureKey = (root: string, account: string | undefined, signature: string) =>
  crypto.createHash('sha256').update(sameAccount(account, DEFAULT_ACCOUNT) ? `${root}\0${signature}` : `${root}\0${account}\0${signature}`).digest('hex');

/**
 * The new turn after tool results written into a transcript. On resume the CLI closes the
 * interrupted turn with its own "No response requested." before it; this tells the model to go on.
 */
export const RESULTS_PROMPT = 'The results of your tool calls are above. Continue from them.';

export interface ConversationDeps {
  store: ConversationStore;
  /** The CLI's working directory, shared by every process (it is part of the prompt). */
  cwd: string;
  cliVersion: string;
  log: Logger;
  /** Finished conversations' processes, kept by the process lifecycle (engine/processes/). */
  live: LiveSessions;
  /** Learns the model attachment of a model the gateway has not seen a session of (template-capture.ts). */
  captureTemplate?: (model: string) => Promise<void>;
}

export class Conversations implements ConversationPort {
  readonly shared: TapShared;
  readonly live: LiveSessions;
  readonly paths: Record<ConversationPath, number> = { new: 0, live: 0, resumed: 0, imported: 0, flattened: 0 };
  /** Template captures under way, one per model. */
  private readonly capturing = new Map<string, Promise<void>>();
  /** With several replicas: this one, named in the points whose process it keeps live (cluster/). */
  replica: { id: string; url: string } | undefined;

  constructor(private readonly deps: ConversationDeps) {
    this.shared = new TapShared(deps.store);
    this.live = deps.live;
  }

  async plan(input: PlanInput): Promise<ConversationPlan> {
    const plan = await this.choose(input);
    this.paths[plan.path]++;
    return plan;
  }

  private async choose(input: PlanInput): Promise<ConversationPlan> {
    const { history, current } = splitTurn(input.messages);
    const root = chainStart(input.owner, input.conversationKey);
    // The point this history ends at: the live process or stored session that holds it goes on.
    const point = extendChain(root, history);
    const chain: Pick<ConversationPlan, 'root' | 'base' | 'rest' | 'account'> = { root, base: point, rest: current };
    const pick = (preferred: string | undefined) => (chain.account = input.pickAccount?.(preferred));
    const flattened = (why: string): ConversationPlan => {
      this.deps.log.info({ why }, 'conversation flattened into one message');
      return { path: 'flattened', prompt: renderPrompt(input.messages), ...chain };
    };
    const blocks = current.flatMap((m) => toBlocks(m.content));
    const prompt = blocks.length ? blocks : [{ type: 'text', text: '(empty message)' }];
    // Tool results whose suspended turn is gone (a timeout, a restart, another replica): the CLI
    // takes only text and media as a new turn, so the results go into an imported transcript as
    // the real tool_result turn, and the turn is started with a short note to go on from them.
    if (current.some((m) => m.content.some((p) => p.type === 'tool_result'))) {
      pick(undefined);
      const plan = await this.importHistory(input, [...history, ...current], [{ type: 'text', text: RESULTS_PROMPT }], chain);
      return plan ?? flattened('the tool results could not be imported');
    }
    if (!history.length) {
      pick(undefined);
      return { path: 'new', prompt, ...chain };
    }
    if (history[0].role !== 'user') {
      pick(undefined);
      return flattened('the history starts with an assistant message');
    }

    const live = this.live.take(point);
    let picked = false;
    if (live && live.shape === input.shapeKey) {
      picked = true;
      let account: string | undefined;
      try {
        account = pick(live.account);
      } catch (e) {
        this.live.put(live); // every credential is limited: the process waits for the next turn
        throw e;
      }
      if (sameAccount(account, live.account)) return { path: 'live', prompt, live: live.proc, liveSession: live.sessionId, ...chain };
    }
    if (live) this.live.put(live); // another shape (effort, limits) or credential: it stays for its own

    const stored = await this.deps.store.getRecord<PointRecord>(POINT_NS, point).catch(() => undefined);
    if (!picked) pick(stored ? (stored.account ?? DEFAULT_ACCOUNT) : live?.account);
    // A session of another credential is not resumed: its thinking is signed for that account.
    if (stored && input.pickAccount && !sameAccount(stored.account, chain.account)) {
      this.deps.log.info({ from: stored.account ?? DEFAULT_ACCOUNT, to: chain.account }, 'conversation moves to another credential: rebuilt there');
    } else if (stored) {
      const entries = await this.deps.store.load({ projectKey: '', sessionId: stored.sessionId }).catch(() => null);
      const branch = entries ? branchTo(entries, stored.leaf) : undefined;
      if (branch) return { path: 'resumed', prompt, resume: { sessionId: stored.sessionId, entries: branch }, ...chain };
      this.deps.log.warn({ session: stored.sessionId }, 'stored session missing or damaged: importing the client history instead');
    }

    return (await this.importHistory(input, history, prompt, chain)) ?? flattened('the history cannot be written as a transcript');
  }

  /** Write `history` as a new session's transcript; undefined when it cannot be real turns. */
  private async importHistory(
    input: PlanInput,
    history: ChatMessage[],
    prompt: AnthropicBlock[],
    chain: Pick<ConversationPlan, 'root' | 'base' | 'rest' | 'account'>,
  ): Promise<ConversationPlan | undefined> {
    try {
      const sessionId = crypto.randomUUID();
      const t = writeTranscript(history, {
        sessionId,
        cwd: this.deps.cwd,
        cliVersion: this.deps.cliVersion,
        model: input.model,
        modelAttachment: await this.modelAttachment(input.model),
        clientTools: input.clientTools,
        ownSignatures: await this.ownSignatures(chain.root, chain.account, history),
      });
      await this.deps.store.append({ projectKey: '', sessionId }, t.entries);
      return { path: 'imported', prompt, resume: { sessionId, entries: t.entries }, ...chain };
    } catch (e) {
      if (!(e instanceof NotExpressible)) this.deps.log.warn({ err: (e as Error).message }, 'could not store an imported transcript');
      return undefined;
    }
  }

  /**
   * How a session of this model opens (its model attachment): seen in a live session, stored, or
   * else learnt once from the CLI itself, so an import opens exactly as a live session does.
   */
  private async modelAttachment(model: string): Promise<Record<string, unknown> | undefined> {
    const known = await this.shared.modelAttachment(model);
    if (known || !this.deps.captureTemplate) return known;
    let capture = this.capturing.get(model);
    if (!capture) {
      capture = this.deps.captureTemplate(model).finally(() => this.capturing.delete(model));
      this.capturing.set(model, capture);
    }
    await capture;
    const learnt = await this.shared.modelAttachment(model);
    if (!learnt) this.deps.log.warn({ model }, 'the CLI did not show how it opens a session of this model: an import opens without the model line');
    return learnt;
  }

  /**
   * Thinking the gateway handed out in this conversation's shape: an imported history may give it
   * back to the API (signatures belong to the account and the prefix; anything else is dropped).
   */
  async rememberThinking(plan: ConversationPlan, answer: ChatMessage): Promise<void> {
    const signed = answer.content.filter((p) => p.type === 'thinking' && p.signature);
    await Promise.all(
      signed.map((p) => this.deps.store.putRecord(THINKING_NS, signatureKey(plan.root, plan.account, (p as { signature: string }).signature), 1).catch(() => {})),
    );
  }

  private async ownSignatures(root: string, account: string | undefined, history: ChatMessage[]): Promise<Set<string>> {
    const own = new Set<string>();
    const signatures = history.flatMap((m) => m.content.flatMap((p) => (p.type === 'thinking' && p.signature ? [p.signature] : [])));
    await Promise.all(
      signatures.map(async (sig) => {
        if (await this.deps.store.getRecord(THINKING_NS, signatureKey(root, account, sig)).catch(() => undefined)) own.add(sig);
      }),
    );
    return own;
  }

  /** The plan of a suspended tool turn its results continue: the same process, its whole history. */
  continuing(input: PlanInput): ConversationPlan {
    const { history, current } = splitTurn(input.messages);
    this.paths.live++;
    const root = chainStart(input.owner, input.conversationKey);
    return { path: 'live', prompt: [], root, base: extendChain(root, history), rest: current };
  }

  /** A live process taken for a turn that never ran (the client left while queued): kept again. */
  giveBack(plan: ConversationPlan, shapeKey: string): void {
    if (!plan.live) return;
    this.live.put({ proc: plan.live, sessionId: plan.liveSession ?? '', point: plan.base, idleSince: Date.now(), account: plan.account, continued: true, shape: shapeKey });
  }

  /**
   * A turn ended cleanly with `answer`: record where its conversation now is (so the request that
   * extends it finds the session), and keep the process live for it when `keep` (else the caller
   * decides what becomes of the process).
   */
  async finish(plan: ConversationPlan, proc: CliProcess, shapeKey: string, turnEnd: { sessionId?: string; lastEntry?: string }, answer: ChatMessage, keep: boolean): Promise<void> {
    const { sessionId } = turnEnd;
    const leaf = sessionId && (await proc.tap?.settledTip(sessionId, turnEnd.lastEntry, 2000));
    if (!sessionId || !leaf) {
      this.deps.log.warn({ session: sessionId }, 'a finished turn left no transcript: its conversation cannot continue in place');
      if (keep) void proc.kill();
      return;
    }
    const point = extendChain(plan.base, [...plan.rest, answer]);
    if (keep) {
      proc.idle();
      // A conversation's first turn is a one-shot until its next one comes (it is first to go when memory runs short).
      this.live.put({ proc, sessionId, point, idleSince: Date.now(), account: plan.account, continued: plan.path !== 'new', shape: shapeKey });
    }
    try {
      await this.deps.store.putRecord(POINT_NS, point, { sessionId, leaf, ...(plan.account && { account: plan.account }), ...(keep && this.replica && { replica: this.replica }) } satisfies PointRecord);
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, 'could not record a conversation point');
    }
  }

  newTap(): TranscriptTap {
    return new SessionTap(this.shared);
  }

  async close(): Promise<void> {
    await this.live.close();
  }
}

/** The composition root's factory: the engine calls it with what it owns (the live set, the cwd, a spawner). */
export function conversationsFor(deps: Pick<ConversationDeps, 'store' | 'cliVersion' | 'log'>): (w: ConversationWiring) => Conversations {
  return (w) =>
    new Conversations({
      ...deps,
      cwd: w.cwd,
      live: w.live,
      captureTemplate: (model) => captureTemplate((endpoint) => w.spawnForCapture(model, endpoint)),
    });
}
