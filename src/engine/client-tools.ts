// Client-defined tools (function calling) as an in-process MCP server the CLI connects to. The model
// sees the client's tools, named mcp__c__<name> by the CLI; when it calls one, the CLI asks this
// server (tools/call, carrying the tool_use id in _meta) and the handler's answer stays pending until
// the client sends its result in a later HTTP request. So the Claude Code turn stays suspended in
// its live process while the client runs the tool, and continues with the true result.
//
// We implement the few JSON-RPC methods ourselves instead of createSdkMcpServer(): that helper takes
// zod shapes, and the client's JSON Schemas must reach the model exactly as sent.
import type { ToolChoice, ToolDefinition, Part } from './types.js';

/** The MCP server name; short, because the CLI prefixes every tool name with mcp__<server>__. */
export const TOOL_SERVER = 'c';
export const TOOL_PREFIX = `mcp__${TOOL_SERVER}__`;

export const mcpToolName = (name: string): string => TOOL_PREFIX + name;
export const clientToolName = (mcpName: string): string | undefined => (mcpName.startsWith(TOOL_PREFIX) ? mcpName.slice(TOOL_PREFIX.length) : undefined);

/** The stop-hook nudges a turn gets when tool_choice demands a call the model did not make. */
const MAX_NUDGES = 2;

interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  params?: any;
}

/** The transport the Agent SDK hands an in-process server (it relays JSON-RPC to and from the CLI). */
interface McpTransport {
  start?(): Promise<void>;
  send(message: object): Promise<void>;
  onmessage?: (message: JsonRpcMessage) => void;
}

type McpContent = { type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string };
export interface McpCallResult {
  content: McpContent[];
  isError?: boolean;
}

/** What the current request asks of tool use; replaced by each request that drives the turn on. */
export interface ToolPolicy {
  choice: ToolChoice;
  parallel: boolean;
}

/**
 * A client's tool result as the MCP result the CLI turns into the tool_result the model gets: text
 * and images as they are, a text document as its text (under its title), a PDF and a URL the
 * gateway does not fetch named in text. Dialects turn every other block into text before this (see
 * the Messages adapter's tool_reference and search_result).
 */
export function toMcpResult(content: Part[], isError?: boolean): McpCallResult {
  const out: McpContent[] = [];
  for (const p of content) {
    if (p.type === 'text') out.push({ type: 'text', text: p.text });
    else if (p.type === 'image' && p.source.type === 'base64') out.push({ type: 'image', data: p.source.data, mimeType: p.source.mediaType });
    else if (p.type === 'image' && p.source.type === 'url') out.push({ type: 'text', text: `[image: ${p.source.url}]` });
    else if (p.type === 'document' && p.source.type === 'text') out.push({ type: 'text', text: p.title ? `${p.title}\n${p.source.data}` : p.source.data });
    else if (p.type === 'document' && p.source.type === 'base64') {
      // The CLI saves an MCP resource's bytes to a file and tells the model that path (a gateway path),
      // so a PDF is named, not carried; as a user message's document it reaches the model whole.
      const bytes = Math.floor((p.source.data.length * 3) / 4);
      out.push({ type: 'text', text: `[PDF document${p.title ? ` "${p.title}"` : ''}, ${bytes} bytes: not readable inside a tool result]` });
    } else if (p.type === 'document' && p.source.type === 'url') out.push({ type: 'text', text: `[document: ${p.source.url}]` });
    else out.push({ type: 'text', text: `[${p.type}]` });
  }
  if (!out.length) out.push({ type: 'text', text: '' });
  return isError ? { content: out, isError: true } : { content: out };
}

export class ClientToolServer {
  private transport: McpTransport | undefined;
  /** Results that arrived before the CLI asked for them (the CLI runs parallel calls one by one). */
  private readonly results = new Map<string, McpCallResult>();
  /** Calls the CLI made that wait for the client's result. */
  private readonly waiting = new Map<string, (r: McpCallResult) => void>();
  policy: ToolPolicy = { choice: { type: 'auto' }, parallel: true };
  /** Stop-hook nudges spent in the current request. */
  private nudges = 0;

  /** Stop-hook nudges spent so far in the current request: each one ends an attempt of the model's. */
  get nudgesSpent(): number {
    return this.nudges;
  }

  constructor(readonly tools: ToolDefinition[]) {}

  /** Called by the Agent SDK with the transport to the CLI. */
  async connect(transport: McpTransport): Promise<void> {
    this.transport = transport;
    transport.onmessage = (msg) => this.onMessage(msg);
    await transport.start?.();
  }

  /** A new request drives the turn: its tool_choice applies from now on. */
  setPolicy(policy: ToolPolicy): void {
    this.policy = policy;
    this.nudges = 0;
  }

  /** Give the result for a call (now, or for when the CLI asks). */
  answer(callId: string, result: McpCallResult): void {
    const waiter = this.waiting.get(callId);
    if (waiter) {
      this.waiting.delete(callId);
      waiter(result);
    } else this.results.set(callId, result);
  }

  /**
   * The Stop hook: when tool_choice requires a call and the model ended without one, send it back
   * with the requirement (at most MAX_NUDGES times per request; then the turn ends, and the request
   * fails: see ToolSession). The reason names the client's tool, never the CLI's mcp__ name.
   */
  stopHook = async (): Promise<{ decision?: 'block'; reason?: string }> => {
    const c = this.policy.choice;
    if ((c.type !== 'required' && c.type !== 'tool') || this.nudges >= MAX_NUDGES) return {};
    this.nudges++;
    const reason =
      c.type === 'tool'
        ? `Call the ${c.name} tool now: this answer must be a call to ${c.name}, not text.`
        : 'Call one of your tools now: this answer must be a tool call, not text.';
    return { decision: 'block', reason };
  };

  private reply(id: string | number, result: object): void {
    void this.transport?.send({ jsonrpc: '2.0', id, result }).catch(() => {});
  }

  private onMessage(msg: JsonRpcMessage): void {
    if (msg.id === undefined) return; // notifications need no answer
    switch (msg.method) {
      case 'initialize':
        this.reply(msg.id, {
          protocolVersion: msg.params?.protocolVersion ?? '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'client-tools', version: '1.0.0' },
        });
        return;
      case 'tools/list':
        this.reply(msg.id, {
          tools: this.tools.map((t) => ({
            name: t.name,
            description: t.description ?? '',
            inputSchema: t.inputSchema,
            // Always in the prompt: deferring them behind ToolSearch would need a built-in tool.
            _meta: { 'anthropic/alwaysLoad': true },
          })),
        });
        return;
      case 'tools/call': {
        const id = msg.id;
        const callId = msg.params?._meta?.['claudecode/toolUseId'];
        if (typeof callId !== 'string') {
          this.reply(id, { content: [{ type: 'text', text: 'The gateway could not match this call (no tool_use id).' }], isError: true });
          return;
        }
        const ready = this.results.get(callId);
        if (ready) {
          this.results.delete(callId);
          this.reply(id, ready);
        } else this.waiting.set(callId, (r) => this.reply(id, r));
        return;
      }
      case 'ping':
        this.reply(msg.id, {});
        return;
      default:
        void this.transport?.send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${msg.method}` } }).catch(() => {});
    }
  }
}
