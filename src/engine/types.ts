// The internal turn/event model every dialect translates to and from. A dialect adapter builds a
// TurnRequest; the engine runs it through Claude Code and yields TurnEvents; the dialect's encoder
// renders them. Nothing here knows about HTTP or any one API's wire format.

export type Effort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

export type MediaSource =
  | { type: 'base64'; mediaType: string; data: string }
  | { type: 'url'; url: string };

export type Part =
  | { type: 'text'; text: string }
  | { type: 'image'; source: MediaSource }
  | { type: 'document'; source: MediaSource | { type: 'text'; mediaType: 'text/plain'; data: string }; title?: string }
  /** A tool call the assistant made in an earlier round (client-defined tools). */
  | { type: 'tool_call'; id: string; name: string; input: unknown }
  /** The client's result for a tool call. */
  | { type: 'tool_result'; callId: string; content: Part[]; isError?: boolean }
  /** Earlier reasoning, carried only so history stays complete. */
  | { type: 'thinking'; text: string; signature?: string };

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: Part[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the tool's input (an object schema). */
  inputSchema: Record<string, unknown>;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export type ThinkingSetting = { type: 'adaptive' } | { type: 'enabled'; budgetTokens: number } | { type: 'disabled' };

export interface TurnRequest {
  /** The model as the client named it (alias or id); the engine resolves it. */
  model: string;
  /** The client's system instructions; the engine uses a neutral prompt without one. */
  system?: string;
  /** The conversation; the final entries are the user's new message. */
  messages: ChatMessage[];
  maxOutputTokens?: number;
  stop?: string[];
  effort?: Effort;
  thinking?: ThinkingSetting;
  /** JSON Schema the answer must match (structured output). */
  outputSchema?: Record<string, unknown>;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
}

/** Who a turn is for: conversations and stored responses belong to the gateway key that made them. */
export interface TurnContext {
  /** A hash of the presented gateway key (never the key). */
  owner?: string;
  /** A client's conversation hint (Codex's prompt_cache_key, a conversation header): a hint only. */
  hint?: string;
  /** False when the client gets the answer whole: a stream cut upstream is then recovered whatever the re-fetched answer says. */
  streaming?: boolean;
  /** Run with this pool member (Claude credential) and no other: verifying it (accounts/). */
  account?: string;
  /** Limits and usage of the key behind the request (src/admin): asked before the turn starts, told when it ends. */
  meter?: TurnMeter;
}

/** How a turn ended, as its usage is recorded: the usage is what the client was told. */
export interface TurnSummary {
  /** The resolved model id (the requested name when the turn failed before it was resolved). */
  model: string;
  /** The HTTP status the client got (499: the client went away). */
  status: number;
  usage: Usage;
  costUsd: number;
  ttftMs?: number;
  durationMs: number;
}

export interface TurnMeter {
  /** Throws a GatewayError (403, 429) when the turn may not start. */
  admit(model: { requested: string; resolved: string }): Promise<void>;
  /** Once per turn, whether it ran, failed or was refused; settles when the usage is booked (never rejects). */
  ended(summary: TurnSummary): Promise<void>;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal' | 'pause_turn';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

export type BlockKind = { type: 'text' } | { type: 'thinking' } | { type: 'tool_use'; id: string; name: string };

export type TurnEvent =
  /** Input usage, known as each model call starts; for dialects that report it up front. */
  | { type: 'usage'; usage: Usage }
  | { type: 'block_start'; index: number; block: BlockKind }
  | { type: 'text_delta'; index: number; text: string }
  | { type: 'thinking_delta'; index: number; text: string }
  | { type: 'signature_delta'; index: number; signature: string }
  | { type: 'tool_input_delta'; index: number; json: string }
  | { type: 'block_stop'; index: number }
  | { type: 'done'; stopReason: StopReason; stopSequence: string | null; usage: Usage; costUsd: number };

/** A running turn: who answers, and the events as they come. */
export interface Turn {
  id: string;
  /** The resolved model id that answers. */
  model: string;
  created: number;
  events: AsyncIterable<TurnEvent>;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 });
