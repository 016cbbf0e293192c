// Chat Completions request -> TurnRequest. Pure translation: no I/O, no engine knowledge.
import type { ChatMessage, Effort, Part, ToolChoice, TurnRequest } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';
import { historyArguments } from '../shared/collect.js';
import { base64Image, checkBase64Media, decodeBase64Text, imageSource, parseDataUrl } from '../shared/media.js';
import { checkOutputSchema } from '../shared/output-schema.js';
import type { ChatMessageIn, ChatRequest } from './schema.js';

type TextContent = string | { type: 'text'; text: string }[];

function textOf(content: TextContent | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

function userParts(content: Extract<ChatMessageIn, { role: 'user' }>['content'], i: number): Part[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((p, j): Part => {
    const param = `messages.${i}.content.${j}`;
    switch (p.type) {
      case 'text':
        return { type: 'text', text: p.text };
      case 'image_url': {
        const url = typeof p.image_url === 'string' ? p.image_url : p.image_url.url;
        return { type: 'image', source: imageSource(url, `${param}.image_url`) };
      }
      case 'file': {
        if (!p.file.file_data) {
          throw new GatewayError('invalid_request', `'${param}.file' needs file_data (a data URL); uploaded file ids are not supported.`, { param });
        }
        const at = `${param}.file.file_data`;
        const data = p.file.file_data.startsWith('data:') ? parseDataUrl(p.file.file_data, at) : { mediaType: 'application/pdf', data: p.file.file_data };
        if (data.mediaType.startsWith('image/')) return { type: 'image', source: base64Image(data.mediaType, data.data, at) };
        if (data.mediaType === 'text/plain') return { type: 'document', source: { type: 'text', mediaType: 'text/plain', data: decodeBase64Text(data.data, at) }, title: p.file.filename };
        if (data.mediaType !== 'application/pdf') {
          throw new GatewayError('invalid_request', `Unsupported file type '${clip(data.mediaType)}' in '${at}'; use PDF, plain text or an image.`, { param: at });
        }
        checkBase64Media('document', data.mediaType, data.data, at);
        return { type: 'document', source: { type: 'base64', ...data }, title: p.file.filename };
      }
      case 'input_audio':
        throw new GatewayError('invalid_request', `Audio input is not supported by Claude ('${param}').`, { param });
    }
  });
}

export const EFFORTS: Record<string, Effort> = { none: 'low', minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'max' };

export function toTurnRequest(req: ChatRequest): TurnRequest {
  if ((req.n ?? 1) > 1) throw new GatewayError('invalid_request', "'n' greater than 1 is not supported: Claude Code produces one answer per request.", { param: 'n' });

  const system: string[] = [];
  const messages: ChatMessage[] = [];
  const push = (role: ChatMessage['role'], parts: Part[]) => {
    const last = messages[messages.length - 1];
    // Consecutive messages of one role merge (tool results after an assistant call are one user turn).
    if (last && last.role === role) last.content.push(...parts);
    else messages.push({ role, content: parts });
  };

  req.messages.forEach((m, i) => {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        push('user', userParts(m.content, i));
        break;
      case 'assistant': {
        const parts: Part[] = [];
        const text = typeof m.content === 'string' || m.content == null ? (m.content ?? '') : m.content.map((p) => (p.type === 'text' ? p.text : p.refusal)).join('');
        if (text) parts.push({ type: 'text', text });
        for (const tc of m.tool_calls ?? []) parts.push({ type: 'tool_call', id: tc.id, name: tc.function.name, input: historyArguments(tc.function.arguments) });
        if (m.function_call) parts.push({ type: 'tool_call', id: `call_${i}`, name: m.function_call.name, input: historyArguments(m.function_call.arguments) });
        push('assistant', parts);
        break;
      }
      case 'tool':
        push('user', [{ type: 'tool_result', callId: m.tool_call_id, content: [{ type: 'text', text: textOf(m.content) }] }]);
        break;
      case 'function':
        push('user', [{ type: 'tool_result', callId: `call_${m.name}`, content: [{ type: 'text', text: m.content ?? '' }] }]);
        break;
    }
  });
  if (!messages.length) throw new GatewayError('invalid_request', "'messages' must contain at least one user or assistant message.", { param: 'messages' });

  const turn: TurnRequest = { model: req.model, messages };
  if (system.length) turn.system = system.join('\n\n');
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max) turn.maxOutputTokens = max;
  if (req.stop) turn.stop = (typeof req.stop === 'string' ? [req.stop] : req.stop).filter((s) => s.length > 0);
  if (req.reasoning_effort) turn.effort = EFFORTS[req.reasoning_effort];

  const rf = req.response_format;
  if (rf?.type === 'json_object') turn.outputSchema = { type: 'object' };
  if (rf?.type === 'json_schema') {
    if (!rf.json_schema.schema) throw new GatewayError('invalid_request', "'response_format.json_schema.schema' is required.", { param: 'response_format.json_schema.schema' });
    turn.outputSchema = checkOutputSchema(rf.json_schema.schema, 'response_format.json_schema.schema');
  }

  if (req.tools?.length) {
    turn.tools = req.tools.map((t) => ({
      name: t.function.name,
      description: t.function.description,
      inputSchema: (t.function.parameters as Record<string, unknown>) ?? { type: 'object', properties: {} },
    }));
  }
  if (req.tool_choice) turn.toolChoice = toolChoice(req.tool_choice);
  if (req.parallel_tool_calls != null) turn.parallelToolCalls = req.parallel_tool_calls;
  return turn;
}

function toolChoice(c: NonNullable<ChatRequest['tool_choice']>): ToolChoice {
  if (typeof c === 'string') return { type: c === 'required' ? 'required' : c };
  return { type: 'tool', name: c.function.name };
}
