// Responses request -> TurnRequest. Pure translation: no I/O, no engine knowledge.
import type { ChatMessage, Part, ToolChoice, TurnRequest } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';
import { EFFORTS } from '../openai-chat/adapter.js';
import { historyArguments } from '../shared/collect.js';
import { base64Image, checkBase64Media, decodeBase64Text, imageSource, parseDataUrl } from '../shared/media.js';
import { checkOutputSchema } from '../shared/output-schema.js';
import { IGNORED_ITEM_TYPES } from './items.js';
import { openThinking } from './reasoning.js';
import type { ContentPartIn, InputItem, ResponsesRequest } from './schema.js';
import { customInput, modelToolName, toolCatalog } from './tools.js';

function unsupported(message: string, param: string): never {
  throw new GatewayError('invalid_request', message, { param });
}

function filePart(p: Extract<ContentPartIn, { type: 'input_file' }>, param: string): Part {
  if (p.file_url) return { type: 'document', source: { type: 'url', url: p.file_url }, title: p.filename ?? undefined };
  if (!p.file_data) unsupported(`'${param}' needs file_data (base64 or a data URL); uploaded file ids are not supported.`, param);
  const at = `${param}.file_data`;
  const data = p.file_data.startsWith('data:') ? parseDataUrl(p.file_data, at) : { mediaType: 'application/pdf', data: p.file_data };
  if (data.mediaType.startsWith('image/')) return { type: 'image', source: base64Image(data.mediaType, data.data, at) };
  if (data.mediaType === 'text/plain') return { type: 'document', source: { type: 'text', mediaType: 'text/plain', data: decodeBase64Text(data.data, at) }, title: p.filename ?? undefined };
  if (data.mediaType !== 'application/pdf') unsupported(`Unsupported file type '${clip(data.mediaType)}' in '${param}'; use PDF, plain text or an image.`, param);
  checkBase64Media('document', data.mediaType, data.data, at);
  return { type: 'document', source: { type: 'base64', mediaType: data.mediaType, data: data.data }, title: p.filename ?? undefined };
}

function contentParts(content: string | ContentPartIn[], param: string): Part[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((p, j): Part => {
    const at = `${param}.${j}`;
    switch (p.type) {
      case 'input_text':
      case 'output_text':
        return { type: 'text', text: p.text };
      case 'refusal':
        return { type: 'text', text: p.refusal };
      case 'input_image':
        if (!p.image_url) unsupported(`'${at}' needs image_url (a data URL); uploaded file ids are not supported.`, at);
        return { type: 'image', source: imageSource(p.image_url, `${at}.image_url`) };
      case 'input_file':
        return filePart(p, at);
      case 'input_audio':
        return unsupported(`Audio input is not supported by Claude ('${at}').`, at);
    }
  });
}

function toolChoice(c: NonNullable<ResponsesRequest['tool_choice']>): ToolChoice | undefined {
  if (typeof c === 'string') return { type: c };
  const namespace = typeof c.namespace === 'string' ? c.namespace : undefined;
  if ((c.type === 'function' || c.type === 'custom') && c.name) return { type: 'tool', name: modelToolName(c.name, namespace) };
  // A hosted tool or an allowed_tools subset: never silently dropped.
  return unsupported(`'tool_choice' of type '${clip(c.type)}' is not supported: use 'auto', 'none', 'required', {"type":"function","name":...} or {"type":"custom","name":...}.`, 'tool_choice');
}

/**
 * `history` is what came before `req.input`: the items of a previous_response_id chain, already
 * expanded by the route (state.ts), oldest first. `req.previous_response_id` itself is not read here.
 */
export function toTurnRequest(req: ResponsesRequest, history: InputItem[] = []): TurnRequest {
  const system: string[] = [];
  if (req.instructions) system.push(req.instructions);
  const messages: ChatMessage[] = [];
  const push = (role: ChatMessage['role'], parts: Part[]) => {
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...parts);
    else messages.push({ role, content: parts });
  };
  const items: InputItem[] = typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input;
  const all: [InputItem, string][] = [...history.map((item): [InputItem, string] => [item, 'previous_response_id']), ...items.map((item, i): [InputItem, string] => [item, `input.${i}`])];
  all.forEach(([item, param]) => {
    if ('role' in item && (item.type === undefined || item.type === 'message')) {
      const m = item as Extract<InputItem, { role: string }>;
      const parts = contentParts(m.content, `${param}.content`);
      if (m.role === 'system' || m.role === 'developer') system.push(parts.map((p) => (p.type === 'text' ? p.text : '')).join(''));
      else push(m.role, parts);
      return;
    }
    switch (item.type) {
      case 'function_call': {
        const f = item as Extract<InputItem, { type: 'function_call' }>;
        push('assistant', [{ type: 'tool_call', id: f.call_id, name: modelToolName(f.name, f.namespace), input: historyArguments(f.arguments) }]);
        return;
      }
      case 'custom_tool_call': {
        const f = item as Extract<InputItem, { type: 'custom_tool_call' }>;
        push('assistant', [{ type: 'tool_call', id: f.call_id, name: modelToolName(f.name, f.namespace), input: customInput(f.input) }]);
        return;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const f = item as Extract<InputItem, { type: 'function_call_output' | 'custom_tool_call_output' }>;
        push('user', [{ type: 'tool_result', callId: f.call_id, content: contentParts(f.output, `${param}.output`) }]);
        return;
      }
      case 'reasoning': {
        const r = item as Extract<InputItem, { type: 'reasoning' }>;
        // The gateway's own envelope gives back the signed thinking; anything else, its summary.
        const signed = r.encrypted_content ? openThinking(r.encrypted_content, param) : undefined;
        if (signed) push('assistant', [{ type: 'thinking', text: signed.thinking, signature: signed.signature }]);
        else push('assistant', [{ type: 'thinking', text: (r.summary ?? []).map((s) => s.text).join('\n') }]);
        return;
      }
      case 'item_reference':
        // The route resolves references to stored items before the adapter runs; one left here is unknown.
        return unsupported(`Item with id '${clip((item as { id: string }).id)}' not found ('${param}' is an item_reference).`, param);
      default:
        // Calls and outputs of hosted tools: nothing Claude Code can replay (listed in the README).
        if (IGNORED_ITEM_TYPES.has(item.type as string)) return;
        return unsupported(`Unsupported input item type '${clip(item.type)}' at '${param}'.`, `${param}.type`);
    }
  });
  if (!messages.length) unsupported("'input' must contain at least one message.", 'input');

  const turn: TurnRequest = { model: req.model, messages };
  if (system.length) turn.system = system.join('\n\n');
  if (req.max_output_tokens) turn.maxOutputTokens = req.max_output_tokens;
  if (req.reasoning?.effort) turn.effort = EFFORTS[req.reasoning.effort];
  const format = req.text?.format;
  if (format?.type === 'json_object') turn.outputSchema = { type: 'object' };
  if (format?.type === 'json_schema') turn.outputSchema = checkOutputSchema(format.schema, 'text.format.schema');

  const { definitions } = toolCatalog(req.tools);
  if (definitions.length) turn.tools = definitions;
  if (req.tool_choice) {
    const choice = toolChoice(req.tool_choice);
    if (choice) turn.toolChoice = choice;
  }
  if (req.parallel_tool_calls != null) turn.parallelToolCalls = req.parallel_tool_calls;
  return turn;
}
