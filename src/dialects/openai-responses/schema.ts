// Zod schema of an OpenAI Responses request. Input items Claude Code can take are typed; other tool
// types and items are checked by tools.ts and items.ts (hosted ones ignored, unknown ones a 400); sampling fields are accepted and
// ignored (see the README); `store` and `previous_response_id` are honoured (state.ts). Unknown fields
// pass through untouched.
import { z } from 'zod';
import { openAIMetadata } from '../shared/metadata.js';

const inputText = z.object({ type: z.literal('input_text'), text: z.string() }).passthrough();
const inputImage = z
  .object({ type: z.literal('input_image'), image_url: z.string().nullish(), file_id: z.string().nullish(), detail: z.string().nullish() })
  .passthrough();
const inputFile = z
  .object({
    type: z.literal('input_file'),
    file_data: z.string().nullish(),
    file_id: z.string().nullish(),
    file_url: z.string().nullish(),
    filename: z.string().nullish(),
  })
  .passthrough();
const inputAudio = z.object({ type: z.literal('input_audio') }).passthrough();
const outputText = z.object({ type: z.literal('output_text'), text: z.string() }).passthrough();
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() }).passthrough();

export const contentPart = z.discriminatedUnion('type', [inputText, inputImage, inputFile, inputAudio, outputText, refusal]);

const messageItem = z
  .object({
    type: z.literal('message').optional(),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: z.union([z.string(), z.array(contentPart)]),
    id: z.string().nullish(),
    status: z.string().nullish(),
  })
  .passthrough();
const functionCallItem = z
  .object({ type: z.literal('function_call'), call_id: z.string(), name: z.string(), arguments: z.string(), namespace: z.string().nullish(), id: z.string().nullish() })
  .passthrough();
const functionCallOutputItem = z
  .object({
    type: z.literal('function_call_output'),
    call_id: z.string(),
    output: z.union([z.string(), z.array(contentPart)]),
  })
  .passthrough();
/** A call of a custom (freeform) tool: its input is raw text. */
const customToolCallItem = z
  .object({ type: z.literal('custom_tool_call'), call_id: z.string(), name: z.string(), input: z.string(), namespace: z.string().nullish(), id: z.string().nullish() })
  .passthrough();
const customToolCallOutputItem = z
  .object({
    type: z.literal('custom_tool_call_output'),
    call_id: z.string(),
    output: z.union([z.string(), z.array(contentPart)]),
  })
  .passthrough();
const reasoningItem = z
  .object({
    type: z.literal('reasoning'),
    summary: z.array(z.object({ text: z.string() }).passthrough()).nullish(),
    content: z.array(z.object({ text: z.string() }).passthrough()).nullish(),
    encrypted_content: z.string().nullish(),
  })
  .passthrough();
const itemReference = z.object({ type: z.literal('item_reference'), id: z.string() }).passthrough();
const KNOWN_ITEMS = new Set(['message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning', 'item_reference']);
/** Any other item: the adapter ignores hosted tools' items (items.ts lists them) and refuses the rest. */
const otherItem = z
  .object({ type: z.string() })
  .passthrough()
  .refine((i) => !KNOWN_ITEMS.has(i.type), { message: 'malformed input item' });

export const inputItem = z.union([messageItem, functionCallItem, functionCallOutputItem, customToolCallItem, customToolCallOutputItem, reasoningItem, itemReference, otherItem]);

const functionTool = z
  .object({
    type: z.literal('function'),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must be 1-64 letters, digits, _ or -'),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  })
  .passthrough();
/** Custom, namespace, hosted ...: checked and translated by tools.ts. */
const otherTool = z
  .object({ type: z.string() })
  .passthrough()
  .refine((t) => t.type !== 'function', { message: 'function tools need a name' });

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).passthrough(),
  z.object({ type: z.literal('json_object') }).passthrough(),
  z
    .object({
      type: z.literal('json_schema'),
      name: z.string().optional(),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().nullish(),
      description: z.string().nullish(),
    })
    .passthrough(),
]);

export const responsesRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(inputItem).min(1, 'input must not be empty')]),
    instructions: z.string().nullish(),
    stream: z.boolean().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    reasoning: z
      .object({
        effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
        summary: z.string().nullish(),
      })
      .passthrough()
      .nullish(),
    text: z.object({ format: textFormat.nullish(), verbosity: z.string().nullish() }).passthrough().nullish(),
    tools: z.array(z.union([functionTool, otherTool])).nullish(),
    tool_choice: z
      .union([z.enum(['none', 'auto', 'required']), z.object({ type: z.string(), name: z.string().optional() }).passthrough()])
      .nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    previous_response_id: z.string().nullish(),
    /** Keep the finished response (default true, as OpenAI). */
    store: z.boolean().nullish(),
    // Accepted and ignored: Claude Code has no way to honour them.
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().nullish(),
    metadata: openAIMetadata.nullish(),
    user: z.string().nullish(),
    include: z.array(z.string()).nullish(),
    truncation: z.string().nullish(),
    service_tier: z.string().nullish(),
    background: z.boolean().nullish(),
  })
  .passthrough();

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type InputItem = z.infer<typeof inputItem>;
export type ContentPartIn = z.infer<typeof contentPart>;
