// The Responses request's tools as the model sees them, and the way back. Function tools pass as
// they are; custom (freeform) tools become tools with one string property, `input`, whose grammar or
// format the model reads in the description; the functions and custom tools of a `namespace` tool are
// flattened to `<namespace>__<name>`. The encoder turns a call of a flattened or custom tool back into
// the item the client declared (function_call with its namespace, custom_tool_call with raw text).
// Hosted tools are ignored (listed in the README), and so is tool search, hosted or client-executed
// (Codex offers one): the gateway gives the model every declared tool at once, deferred or not, so a
// discovery tool finds nothing the model does not already have. Any other tool type is a 400.
import type { ToolDefinition } from '../../engine/types.js';
import { clip, GatewayError } from '../../errors.js';
import type { ResponsesRequest } from './schema.js';

/** The property of a custom tool's input schema that carries the raw text. */
export const CUSTOM_INPUT = 'input';
/** Between a namespace and its tool in the name the model sees. */
export const NAMESPACE_SEP = '__';

/** Tools run by OpenAI's servers (or OpenAI-defined built-ins): accepted, not given to the model. */
export const IGNORED_TOOL_TYPES = new Set([
  'web_search',
  'web_search_2025_08_26',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'file_search',
  'code_interpreter',
  'computer',
  'computer_use',
  'computer_use_preview',
  'image_generation',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'programmatic_tool_calling',
]);

export interface ToolOrigin {
  kind: 'function' | 'custom';
  /** The client's own name, inside its namespace if it has one. */
  name: string;
  namespace?: string;
}

export interface ToolCatalog {
  definitions: ToolDefinition[];
  /** By the name the model sees. */
  origins: Map<string, ToolOrigin>;
}

type RawTool = Record<string, unknown> & { type: string };

function invalid(message: string, param: string): GatewayError {
  return new GatewayError('invalid_request', message, { param, code: 'invalid_tools' });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What the model is told about a custom tool's input: free text, or text in a grammar. */
function formatNote(t: RawTool, where: string): string {
  const format = t.format as Record<string, unknown> | null | undefined;
  const intro = 'Call this tool with one string property, `input`: the raw text the tool takes (not JSON-encoded beyond that string).';
  if (format == null || format.type === 'text') return intro;
  if (typeof format !== 'object' || format.type !== 'grammar') {
    throw invalid(`Invalid format for custom tool '${clip(t.name)}' at ${where}.format: expected {"type":"text"} or {"type":"grammar", ...}.`, `${where}.format`);
  }
  const syntax = format.syntax;
  const definition = format.definition;
  if (syntax !== 'lark' && syntax !== 'regex') {
    throw invalid(`Invalid grammar syntax '${clip(String(syntax))}' for custom tool '${clip(t.name)}': expected 'lark' or 'regex'.`, `${where}.format.syntax`);
  }
  if (typeof definition !== 'string' || !definition.trim()) {
    throw invalid(`The grammar of custom tool '${clip(t.name)}' needs a non-empty 'definition'.`, `${where}.format.definition`);
  }
  if (syntax === 'regex') {
    try {
      new RegExp(definition);
    } catch (e) {
      throw invalid(`The regex grammar of custom tool '${clip(t.name)}' does not compile: ${clip((e as Error).message, 200)}.`, `${where}.format.definition`);
    }
    return `${intro} The text must match this regular expression:\n${definition}`;
  }
  // Lark starts from the rule named `start`: a grammar without one describes nothing.
  if (!/^\s*\??start\s*:/m.test(definition)) {
    throw invalid(`The Lark grammar of custom tool '${clip(t.name)}' has no 'start' rule.`, `${where}.format.definition`);
  }
  return `${intro} The text must follow this Lark grammar (from its start rule):\n${definition}`;
}

function customDefinition(t: RawTool, name: string, where: string, extra?: string): ToolDefinition {
  const note = formatNote(t, where);
  const description = [str(t.description), extra, note].filter(Boolean).join('\n\n');
  return {
    name,
    description,
    inputSchema: {
      type: 'object',
      properties: { [CUSTOM_INPUT]: { type: 'string', description: 'The raw input text.' } },
      required: [CUSTOM_INPUT],
      additionalProperties: false,
    },
  };
}

function functionDefinition(t: RawTool, name: string, extra?: string): ToolDefinition {
  const description = [str(t.description), extra].filter(Boolean).join('\n\n');
  return {
    name,
    description: description || undefined,
    inputSchema: (t.parameters as Record<string, unknown> | null | undefined) ?? { type: 'object', properties: {} },
  };
}

function needName(t: RawTool, where: string): string {
  if (typeof t.name !== 'string' || !t.name) throw invalid(`The ${t.type} tool at ${where} needs a 'name'.`, `${where}.name`);
  return t.name;
}

/** The model's tools from the request's; throws a 400 on a tool it cannot carry. */
export function toolCatalog(tools: ResponsesRequest['tools']): ToolCatalog {
  const definitions: ToolDefinition[] = [];
  const origins = new Map<string, ToolOrigin>();
  const add = (def: ToolDefinition, origin: ToolOrigin) => {
    definitions.push(def);
    origins.set(def.name, origin);
  };
  (tools ?? []).forEach((raw, i) => {
    const t = raw as RawTool;
    const where = `tools.${i}`;
    switch (t.type) {
      case 'function': {
        const name = needName(t, where);
        add(functionDefinition(t, name), { kind: 'function', name });
        return;
      }
      case 'custom': {
        const name = needName(t, where);
        add(customDefinition(t, name, where), { kind: 'custom', name });
        return;
      }
      case 'namespace': {
        const ns = needName(t, where);
        if (!Array.isArray(t.tools) || !t.tools.length) throw invalid(`The namespace tool '${clip(ns)}' at ${where} needs a non-empty 'tools' list.`, `${where}.tools`);
        const about = str(t.description) ? `(In the ${ns} namespace: ${str(t.description)})` : undefined;
        (t.tools as unknown[]).forEach((inner, j) => {
          const at = `${where}.tools.${j}`;
          const it = (inner && typeof inner === 'object' ? inner : {}) as RawTool;
          const name = needName(it, at);
          const flat = `${ns}${NAMESPACE_SEP}${name}`;
          if (it.type === 'function') add(functionDefinition(it, flat, about), { kind: 'function', name, namespace: ns });
          else if (it.type === 'custom') add(customDefinition(it, flat, at, about), { kind: 'custom', name, namespace: ns });
          else throw invalid(`A namespace holds function and custom tools; '${clip(String(it.type))}' at ${at} is neither.`, `${at}.type`);
        });
        return;
      }
      case 'tool_search':
        return; // left out, hosted or client-executed: every declared tool is already the model's
      default:
        if (IGNORED_TOOL_TYPES.has(t.type)) return;
        throw invalid(`Unsupported tool type '${clip(t.type)}' at ${where}.`, `${where}.type`);
    }
  });
  return { definitions, origins };
}

/** The name the model sees for a tool the client names (with its namespace, if any). */
export const modelToolName = (name: string, namespace?: string | null): string => (namespace ? `${namespace}${NAMESPACE_SEP}${name}` : name);

/** A custom tool call's input as the model gives it. */
export const customInput = (text: string): Record<string, string> => ({ [CUSTOM_INPUT]: text });

/** The raw text of a custom tool call from the model's JSON input: its `input` string, else the JSON itself. */
export function customText(json: string): string {
  try {
    const v = JSON.parse(json) as unknown;
    if (v && typeof v === 'object' && typeof (v as Record<string, unknown>)[CUSTOM_INPUT] === 'string') return (v as Record<string, string>)[CUSTOM_INPUT];
  } catch {
    /* not JSON: the text as it came */
  }
  return json;
}
