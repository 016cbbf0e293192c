// The SessionStore the CLI processes are given: it passes every transcript batch on to the
// conversation store and watches what goes by. It learns each session's last chain entry (where a
// later turn resumes) and the model attachment a live session starts with (so imported transcripts
// open the same way), and it hands the SDK a transcript the gateway already loaded and checked.
import type { SessionStore } from '@anthropic-ai/claude-agent-sdk';
import type { ConversationStore, SessionKey, SessionStoreEntry } from './stores/store.js';

const TEMPLATE_NS = 'template';

/** What the taps of all processes share: the model attachments seen so far. */
export class TapShared {
  readonly modelAttachments = new Map<string, Record<string, unknown>>();
  constructor(readonly store: ConversationStore) {}

  async modelAttachment(modelId: string): Promise<Record<string, unknown> | undefined> {
    const known = this.modelAttachments.get(modelId);
    if (known) return known;
    const stored = await this.store.getRecord<Record<string, unknown>>(TEMPLATE_NS, `model:${modelId}`).catch(() => undefined);
    if (stored) this.modelAttachments.set(modelId, stored);
    return stored;
  }
}

/** One per CLI process: its tips are its own, so two processes on one session never mix them up. */
export class SessionTap implements SessionStore {
  /** The last message entry (uuid) this process appended, per session. */
  private readonly tips = new Map<string, string>();
  private readonly preloaded = new Map<string, SessionStoreEntry[]>();
  private readonly waiters = new Set<() => void>();
  /** Chain entries this process has stored (to know the turn's own entries have landed). */
  private readonly seen = new Set<string>();
  private readonly store: ConversationStore;
  private readonly modelAttachments: Map<string, Record<string, unknown>>;

  constructor(shared: TapShared) {
    this.store = shared.store;
    this.modelAttachments = shared.modelAttachments;
  }

  /** The sessions this process wrote to (their local copies are removed when it exits). */
  sessions(): string[] {
    return [...this.tips.keys()];
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    let tip: string | undefined;
    if (!key.subpath) {
      for (const e of entries) {
        // A resume point is a message entry (user or assistant): the branch a resumed CLI is handed
        // ends at the answer itself, not at the bookkeeping the CLI writes after it.
        if (typeof e.uuid === 'string' && 'parentUuid' in e && (e.type === 'user' || e.type === 'assistant')) tip = e.uuid;
        const a = (e as { attachment?: { type?: string; identity?: { modelId?: string } } }).attachment;
        const modelId = a?.type === 'model' ? a.identity?.modelId : undefined;
        if (modelId && !this.modelAttachments.has(modelId)) {
          this.modelAttachments.set(modelId, a as Record<string, unknown>);
          void this.store.putRecord(TEMPLATE_NS, `model:${modelId}`, a).catch(() => {});
        }
      }
    }
    await this.store.append(key, entries);
    // Only once stored: a point recorded at this tip must be loadable by any replica.
    for (const e of entries) if (typeof e.uuid === 'string') this.seen.add(e.uuid);
    if (tip) this.tips.set(key.sessionId, tip);
    for (const w of [...this.waiters]) w();
  }

  /**
   * The session's last chain entry once its transcript is stored. The SDK mirrors a turn in
   * batches that can land just after the turn's result: wait for that batch, within a limit.
   */
  async settledTip(sessionId: string, entryUuid: string | undefined, timeoutMs: number): Promise<string | undefined> {
    const done = () => {
      const tip = this.tips.get(sessionId);
      return tip !== undefined && (entryUuid === undefined || this.seen.has(entryUuid)) ? tip : undefined;
    };
    if (done()) return done();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(done() ?? this.tips.get(sessionId));
      };
      const check = () => done() && finish();
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(check);
    });
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const ready = key.subpath ? undefined : this.preloaded.get(key.sessionId);
    if (ready) {
      this.preloaded.delete(key.sessionId);
      return ready;
    }
    return this.store.load(key);
  }

  async delete(key: SessionKey): Promise<void> {
    await this.store.delete?.(key);
  }

  /** The SDK's next load of this session gets these entries (already read and checked). */
  preload(sessionId: string, entries: SessionStoreEntry[]): void {
    this.preloaded.set(sessionId, entries);
  }

  tip(sessionId: string): string | undefined {
    return this.tips.get(sessionId);
  }
}

/**
 * The entries from the session's first message to `leaf`, in order: one line of the transcript
 * tree. A stored session can hold several branches (a regenerate, a double submit, another
 * replica); the CLI follows the newest one, so it is handed just the branch this turn extends.
 * Undefined when the leaf is missing or its chain is broken (a damaged transcript).
 */
export function branchTo(entries: SessionStoreEntry[], leaf: string): SessionStoreEntry[] | undefined {
  const byId = new Map<string, SessionStoreEntry>();
  for (const e of entries) if (typeof e.uuid === 'string') byId.set(e.uuid, e);
  const chain: SessionStoreEntry[] = [];
  let at = byId.get(leaf);
  while (at) {
    chain.push(at);
    if (chain.length > byId.size) return undefined;
    const parent = (at as { parentUuid?: string | null }).parentUuid;
    if (parent == null) return chain.reverse();
    at = byId.get(parent);
  }
  return undefined;
}
