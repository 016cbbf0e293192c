// Where conversations live: the Agent SDK's own SessionStore (the Claude Code transcripts, which the
// SDK appends to as a session runs and loads to resume one), plus small records beside them: the
// conversation points that map a history to the session holding it, stored Responses.
// Two implementations: files under the data dir (the default) and Redis (several replicas).
import type { SessionKey, SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';

export type { SessionKey, SessionStoreEntry };

export interface ConversationStore extends SessionStore {
  readonly kind: string;
  /** A small JSON record, or undefined when absent or expired. */
  getRecord<T>(ns: string, key: string): Promise<T | undefined>;
  /** Write a record; it expires ttlMs after this write (default: the store's retention). */
  putRecord(ns: string, key: string, value: unknown, ttlMs?: number): Promise<void>;
  deleteRecord(ns: string, key: string): Promise<void>;
  /** One row of a table of JSON rows (app keys): rows never expire; a row is replaced whole. */
  getRow<T>(table: string, row: string): Promise<T | undefined>;
  putRow(table: string, row: string, value: unknown): Promise<void>;
  /** Every row of a table (empty when it has none). */
  readRows<T>(table: string): Promise<Record<string, T>>;
  /**
   * Add to numeric fields of one row of a counter table (usage, rate windows), atomically per row,
   * and return that row's fields after the addition. The table expires ttlMs after its last change.
   */
  addCounters(table: string, row: string, add: Record<string, number>, ttlMs: number): Promise<Record<string, number>>;
  /** Every row of a counter table (empty when absent or expired). */
  readCounters(table: string): Promise<Record<string, Record<string, number>>>;
  close(): Promise<void>;
}

export type CounterRows = Record<string, Record<string, number>>;

/** Session transcripts are keyed by session id alone: the gateway's CLI processes all share one
 * working directory, and a session id is a random UUID only the gateway's own records lead to. */
export const sessionKey = (key: SessionKey): string => (key.subpath ? `${key.sessionId}/${key.subpath}` : key.sessionId);
