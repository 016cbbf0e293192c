// Anthropic Messages request -> TurnRequest. Pure translation: no I/O, no engine knowledge.
import type { ChatMessage, Part, ThinkingSetting, ToolChoice, ToolDefinition, TurnRequest } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';
import { base64Image, checkBase64Media } from '../shared/media.js';
import { checkOutputSchema } from '../shared/output-schema.js';
import type { ContentBlockIn, CountTokensRequest, MessagesRequest } from './schema.js';

type Block = Exclude<ContentBlockIn, string>;

function noFileIds(param: string): never {
  throw new GatewayError('invalid_request', `'${param}' refers to an uploaded file; the Files API is not supported, send the content inline.`, { param });
}

function imagePart(b: Extract<Block, { type: 'image' }>, param: string): Part {
  const s = b.source;
  if (s.type === 'file') noFileIds(`${param}.source`);
  if (s.type === 'url') return { type: 'image', source: { type: 'url', url: s.url } };
  return { type: 'image', source: base64Image(s.media_type, s.data, `${param}.source.data`, `${param}.source.media_type`) };
}

function documentPart(b: Extract<Block, { type: 'document' }>, param: string): Part[] {
  const s = b.source;
  const title = b.title ?? undefined;
  switch (s.type) {
    case 'file':
      return noFileIds(`${param}.source`);
    case 'url':
      return [{ type: 'document', source: { type: 'url', url: s.url }, title }];
    case 'text':
      return [{ type: 'document', source: { type: 'text', mediaType: 'text/plain', data: s.data }, title }];
    case 'content': {
      // A custom-content document is a list of text/image blocks: pass them as they are.
      const inner = typeof s.content === 'string' ? [{ type: 'text', text: s.content }] : s.content;
      return blocksToParts(inner as Block[], `${param}.source.content`);
    }
    case 'base64':
      if (s.media_type !== 'application/pdf') {
        throw new GatewayError('invalid_request', `Unsupported document type '${clip(s.media_type)}' in '${param}'; use application/pdf or a text source.`, { param: `${param}.source.media_type` });
      }
      checkBase64Media('document', s.media_type, s.data, `${param}.source.data`);
      return [{ type: 'document', source: { type: 'base64', mediaType: s.media_type, data: s.data }, title }];
  }
}

export function blocksToParts(content: string | Block[], param: string): Part[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.flatMap((b, j) => blockToParts(b, `${param}.${j}`));
}

function blockToParts(b: Block, p: string): Part[] {
  switch (b.type) {
    case 'text':
      return [{ type: 'text', text: (b as { text: string }).text }];
    case 'image':
      return [imagePart(b as Extract<Block, { type: 'image' }>, p)];
    case 'document':
      return documentPart(b as Extract<Block, { type: 'document' }>, p);
    case 'tool_use': {
      const t = b as Extract<Block, { type: 'tool_use' }>;
      return [{ type: 'tool_call', id: t.id, name: t.name, input: t.input }];
    }
    case 'tool_result': {
      const t = b as Extract<Block, { type: 'tool_result' }>;
      const inner = t.content === undefined ? [] : toolResultParts(t.content as string | Block[], `${p}.content`);
      return [{ type: 'tool_result', callId: t.tool_use_id, content: inner, isError: t.is_error ?? undefined }];
    }
    case 'thinking': {
      const t = b as Extract<Block, { type: 'thinking' }>;
      return [{ type: 'thinking', text: t.thinking, signature: t.signature }];
    }
    default:
      // redacted_thinking, server tool use/results, search results ...: nothing Claude Code can replay.
      return [];
  }
}

/**
 * A tool_result's content. Text, images and documents go on as they are; the blocks Claude Code's
 * own tool path cannot carry (the model's tools reach it through MCP) become text that says the same:
 * a tool_reference (ToolSearch's answer: the named tool is loaded, and here every declared tool
 * always is), a search_result (title, source and its text), and any other block (browser_state ...)
 * as its JSON, so nothing a client sent is lost.
 */
function toolResultParts(content: string | Block[], param: string): Part[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.flatMap((b, j): Part[] => {
    const block = b as { type: string; [k: string]: unknown };
    switch (block.type) {
      case 'text':
      case 'image':
      case 'document':
        // The schema lets any typed block into a tool result; these three must have their fields.
        if (block.type === 'text' ? typeof block.text !== 'string' : typeof block.source !== 'object' || block.source === null) {
          throw new GatewayError('invalid_request', `Malformed ${block.type} block in a tool_result at '${param}.${j}'.`, { param: `${param}.${j}` });
        }
        return blockToParts(b, `${param}.${j}`);
      case 'tool_reference':
        return [{ type: 'text', text: `Tool loaded: ${String(block.tool_name ?? block.name ?? '')}` }];
      case 'search_result': {
        const texts = Array.isArray(block.content) ? (block.content as { text?: unknown }[]).map((c) => (typeof c?.text === 'string' ? c.text : '')).filter(Boolean) : [];
        return [{ type: 'text', text: [`Search result: ${String(block.title ?? '')}`, `Source: ${String(block.source ?? '')}`, ...texts].join('\n') }];
      }
      default: {
        const { cache_control: _c, ...rest } = block;
        return [{ type: 'text', text: `[${block.type}] ${JSON.stringify(rest)}` }];
      }
    }
  });
}

function textOf(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((b) => b.text).join('\n');
}

function thinking(t: NonNullable<MessagesRequest['thinking']>): ThinkingSetting | undefined {
  if (t.type === 'enabled') return { type: 'enabled', budgetTokens: t.budget_tokens };
  if (t.type === 'disabled') return { type: 'disabled' };
  if (t.type === 'adaptive') return { type: 'adaptive' };
  return undefined; // between_tools: the CLI's default behaviour
}

function tools(req: CountTokensRequest): ToolDefinition[] {
  const out: ToolDefinition[] = [];
  for (const t of req.tools ?? []) {
    // Hosted tools (web search, code execution, bash ...) are accepted and ignored.
    if (!('input_schema' in t) || (t.type && t.type !== 'custom')) continue;
    out.push({ name: String(t.name), description: t.description as string | undefined, inputSchema: t.input_schema as Record<string, unknown> });
  }
  return out;
}

function toolChoice(c: NonNullable<MessagesRequest['tool_choice']>): ToolChoice {
  if (c.type === 'any') return { type: 'required' };
  if (c.type === 'tool') return { type: 'tool', name: c.name };
  return { type: c.type };
}

/** The parts of a request both /v1/messages and count_tokens translate. */
export function conversationOf(req: CountTokensRequest): Pick<TurnRequest, 'system' | 'messages' | 'tools'> {
  const system: string[] = [];
  if (req.system) system.push(textOf(req.system));
  const messages: ChatMessage[] = [];
  req.messages.forEach((m, i) => {
    if (m.role === 'system') {
      system.push(textOf(m.content));
      return;
    }
    const parts = blocksToParts(m.content as string | Block[], `messages.${i}.content`);
    const last = messages[messages.length - 1];
    if (last && last.role === m.role) last.content.push(...parts);
    else messages.push({ role: m.role, content: parts });
  });
  const out: Pick<TurnRequest, 'system' | 'messages' | 'tools'> = { messages };
  if (system.length) out.system = system.join('\n\n');
  const t = tools(req);
  if (t.length) out.tools = t;
  return out;
}

export function toTurnRequest(req: MessagesRequest): TurnRequest {
  const conv = conversationOf(req);
  if (!conv.messages.length) throw new GatewayError('invalid_request', "'messages' must contain at least one user or assistant message.", { param: 'messages' });
  const turn: TurnRequest = { model: req.model, ...conv, maxOutputTokens: req.max_tokens };
  const stops = (req.stop_sequences ?? []).filter((s) => s.length > 0);
  if (stops.length) turn.stop = stops;
  if (req.output_config?.effort) turn.effort = req.output_config.effort;
  if (req.thinking) {
    const t = thinking(req.thinking);
    if (t) turn.thinking = t;
  }
  const format = req.output_config?.format ?? req.output_format;
  if (format) turn.outputSchema = checkOutputSchema(format.schema, req.output_config?.format ? 'output_config.format.schema' : 'output_format.schema');
  if (req.tool_choice) {
    turn.toolChoice = toolChoice(req.tool_choice);
    if ('disable_parallel_tool_use' in req.tool_choice && req.tool_choice.disable_parallel_tool_use) turn.parallelToolCalls = false;
  }
  return turn;
}
