// What the engine needs of conversations, owned here so the engine never imports the layer above it
// (conversations/ implements this; the composition root, server.ts, plugs it in). A turn asks how it
// reaches its session (plan), tells how it ended (finish), and its process mirrors its transcript
// through a tap the conversations layer makes.
import type { SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';
import type { CliProcess } from './cli-process.js';
import type { LiveSessions } from './processes/live-sessions.js';
import type { AnthropicBlock } from './prompt.js';
import type { ChatMessage } from './types.js';

export type ConversationPath = 'new' | 'live' | 'resumed' | 'imported' | 'flattened';

export interface ResumeTarget {
  sessionId: string;
  /** The branch of the transcript that ends at the point the turn extends, handed to the SDK's load. */
  entries: SessionStoreEntry[];
}

export interface ConversationPlan {
  path: ConversationPath;
  /** The new user turn, as the one message the CLI is sent. */
  prompt: AnthropicBlock[];
  live?: CliProcess;
  /** The session the live process holds. */
  liveSession?: string;
  resume?: ResumeTarget;
  /** Where this conversation's chain starts (owner and conversation key): also the scope of its thinking. */
  root: string;
  /** The Claude credential the turn runs with (accounts/); undefined without a pool. */
  account?: string;
  /** The conversation point before this turn (the chain hash after the history), and the messages of
   * this turn after it: the point after the turn goes on from there with the answer. */
  base: string;
  rest: ChatMessage[];
}

export interface PlanInput {
  owner: string;
  /** What makes histories comparable: model, system prompt, tools. */
  conversationKey: string;
  /** The full shape of this turn's process: a live process serves only its own shape. */
  shapeKey: string;
  messages: ChatMessage[];
  /** The wire model id (for imported assistant turns and the model attachment). */
  model: string;
  clientTools: boolean;
  /**
   * Chooses the Claude credential (accounts/): given the one the conversation ran with so far, the
   * one it runs with now. A conversation that moves is rebuilt there by import (a session's thinking
   * is signed for its account). Absent: one credential, nothing to choose.
   */
  pickAccount?: (preferred: string | undefined) => string | undefined;
}

/** How a CLI process mirrors its transcript to the conversation store (conversations/session-tap.ts). */
export interface TranscriptTap extends SessionStore {
  /** Sessions this process wrote. */
  sessions(): string[];
  /** Hand the SDK's load this branch of a stored session (a resume). */
  preload(sessionId: string, entries: SessionStoreEntry[]): void;
  /** The last stored entry of a session once the mirror has caught up with `entryUuid`. */
  settledTip(sessionId: string, entryUuid: string | undefined, timeoutMs: number): Promise<string | undefined>;
}

export interface ConversationPort {
  /** Finished conversations' processes (owned by the process lifecycle, engine/processes/). */
  readonly live: LiveSessions;
  readonly paths: Record<ConversationPath, number>;
  /** With several replicas: this one, named in the points whose process it keeps live (cluster/). */
  replica: { id: string; url: string } | undefined;
  plan(input: PlanInput): Promise<ConversationPlan>;
  continuing(input: PlanInput): ConversationPlan;
  giveBack(plan: ConversationPlan, shapeKey: string): void;
  finish(plan: ConversationPlan, proc: CliProcess, shapeKey: string, turnEnd: { sessionId?: string; lastEntry?: string }, answer: ChatMessage, keep: boolean): Promise<void>;
  rememberThinking(plan: ConversationPlan, answer: ChatMessage): Promise<void>;
  /** A tap for a new process's transcript. */
  newTap(): TranscriptTap;
  close(): Promise<void>;
}

/** What the engine gives the conversations layer when it builds it (the composition root's factory). */
export interface ConversationWiring {
  live: LiveSessions;
  /** The CLI's working directory, shared by every process (it is part of the prompt). */
  cwd: string;
  /** Start a process of the neutral shape for `model` against a capture endpoint (template-capture.ts). */
  spawnForCapture(model: string, endpoint: Record<string, string>): CliProcess;
}
