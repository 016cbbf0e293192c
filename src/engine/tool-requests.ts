// Checks a TurnRequest's client tools before any process is touched: the definitions (names and
// JSON Schemas), tool_choice, and that every tool call and result in the conversation pair up. All
// failures are 400s that name the field, so every dialect gets the same clear errors.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { clip, GatewayError } from '../errors.js';
import type { ToolPolicy } from './client-tools.js';
import type { ChatMessage, Part, ToolDefinition, TurnRequest } from './types.js';

// Schema keywords are checked against the JSON Schema 2020-12 meta-schema (what the Messages API
// speaks); unknown keywords are allowed, as the API allows them.
const ajv = new Ajv2020({ strict: false, validateSchema: true, validateFormats: false });

const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must be 1-64 letters, digits, _ or -');
const objectSchema = z
  .object({
    type: z.literal('object', { error: "the input schema's type must be 'object'" }),
    properties: z.record(z.string(), z.unknown(), { error: "'properties' must be an object" }).optional(),
    required: z.array(z.string(), { error: "'required' must be an array of property names" }).optional(),
  })
  .passthrough();

/**
 * The deepest a tool's input schema may nest (arrays and objects, the schema itself being level 1).
 * Request bodies are already held to GATEWAY_MAX_JSON_DEPTH; this holds every schema, whatever its
 * source, before Ajv (which recurses) looks at it.
 */
export const MAX_SCHEMA_DEPTH = 64;

/** Whether a parsed value nests deeper than `max`, counted without recursion. */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) return true;
    for (const child of Object.values(v as object)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param, code: 'invalid_tools' });
}

/** The definitions in a stable order (by name) with schemas checked; throws a 400 on the first problem. */
export function checkTools(tools: ToolDefinition[]): ToolDefinition[] {
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    const where = `tools.${i}`;
    const name = toolName.safeParse(t.name);
    if (!name.success) throw invalid(`Invalid tool name '${clip(t.name)}' at ${where}: ${name.error.issues[0].message}.`, `${where}.name`);
    if (seen.has(t.name)) throw invalid(`Tool names must be unique; '${clip(t.name)}' is declared twice.`, `${where}.name`);
    seen.add(t.name);
    const shape = objectSchema.safeParse(t.inputSchema);
    if (!shape.success) throw invalid(`Invalid input schema for tool '${clip(t.name)}': ${shape.error.issues[0].message}.`, `${where}.parameters`);
    if (depthExceeds(t.inputSchema, MAX_SCHEMA_DEPTH)) {
      throw invalid(`Invalid input schema for tool '${clip(t.name)}': it nests deeper than ${MAX_SCHEMA_DEPTH} levels.`, `${where}.parameters`);
    }
    const { $schema: _ignored, ...schema } = t.inputSchema;
    if (!ajv.validateSchema(schema)) {
      const e = ajv.errors?.[0];
      const at = e?.instancePath ? ` at ${e.instancePath}` : '';
      throw invalid(`Invalid input schema for tool '${clip(t.name)}'${clip(at, 120)}: ${clip(e?.message ?? 'not a valid JSON Schema', 200)}.`, `${where}.parameters`);
    }
  });
  // Sorted: the definitions the model sees stay byte-identical across requests (prompt cache).
  return [...tools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ToolPlan {
  /** The tools the model sees; undefined when it sees none (no tools, or tool_choice none). */
  tools?: ToolDefinition[];
  policy: ToolPolicy;
}

export function planTools(req: TurnRequest): ToolPlan {
  const declared = req.tools?.length ? checkTools(req.tools) : undefined;
  const choice = req.toolChoice ?? { type: 'auto' };
  const policy: ToolPolicy = { choice, parallel: req.parallelToolCalls ?? true };
  if (choice.type === 'required' && !declared) throw invalid("tool_choice 'required' needs at least one tool in 'tools'.", 'tool_choice');
  if (choice.type === 'tool' && !declared?.some((t) => t.name === choice.name)) {
    throw invalid(`tool_choice names the tool '${clip(choice.name)}', which is not in 'tools'.`, 'tool_choice');
  }
  // tool_choice none: the model is not shown the tools at all, so it cannot call one.
  return { tools: choice.type === 'none' ? undefined : declared, policy };
}

/** The tool results of the final user turn (the answers to the latest calls), with what else it holds. */
export function trailingResults(messages: ChatMessage[]): { results: Extract<Part, { type: 'tool_result' }>[]; otherParts: number } {
  const results: Extract<Part, { type: 'tool_result' }>[] = [];
  let otherParts = 0;
  for (let i = messages.length - 1; i >= 0 && messages[i].role === 'user'; i--) {
    for (const p of messages[i].content) {
      if (p.type === 'tool_result') results.push(p);
      else if (p.type !== 'text' || p.text.trim()) otherParts++;
    }
  }
  return { results, otherParts };
}

/**
 * Every tool result must answer a call the assistant made earlier (or one a suspended turn is
 * waiting on, for dialects whose history lives on the server), and every call must be answered
 * before the conversation goes on.
 */
export function checkToolHistory(messages: ChatMessage[], isPending: (callId: string) => boolean): void {
  const open = new Map<string, string>();
  messages.forEach((m, i) => {
    for (const p of m.content) {
      if (p.type === 'tool_call') open.set(p.id, p.name);
      else if (p.type === 'tool_result') {
        if (open.has(p.callId)) open.delete(p.callId);
        else if (!isPending(p.callId)) {
          throw new GatewayError('invalid_request', `No tool call with id '${clip(p.callId)}' precedes its result (messages.${i}).`, {
            param: `messages.${i}`,
            code: 'unknown_tool_call_id',
          });
        }
      }
    }
    // An assistant turn's calls must all be answered by the user turn that follows it.
    const next = messages[i + 1];
    if (m.role === 'user' && open.size && (next === undefined || next.role === 'assistant')) {
      throw new GatewayError('invalid_request', `The tool call${open.size > 1 ? 's' : ''} ${[...open.keys()].slice(0, 8).map((k) => `'${clip(k)}'`).join(', ')}${open.size > 8 ? ` and ${open.size - 8} more` : ''} got no result.`, {
        param: `messages.${i}`,
        code: 'missing_tool_result',
      });
    }
  });
}
