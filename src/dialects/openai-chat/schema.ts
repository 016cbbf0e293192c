// Zod schema of an OpenAI Chat Completions request. Every role and content form is accepted; fields
// Claude Code cannot honour (temperature, seed, logit_bias ...) are accepted and ignored (see the
// README); unknown fields pass through untouched.
import { z } from 'zod';
import { openAIMetadata } from '../shared/metadata.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const imagePart = z
  .object({ type: z.literal('image_url'), image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.string().optional() }).passthrough()]) })
  .passthrough();
const filePart = z
  .object({
    type: z.literal('file'),
    file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }).passthrough(),
  })
  .passthrough();
const audioPart = z.object({ type: z.literal('input_audio'), input_audio: z.unknown() }).passthrough();
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() }).passthrough();

const userContent = z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart, filePart, audioPart]))]);
const textContent = z.union([z.string(), z.array(textPart)]);

export const toolCallSchema = z
  .object({
    id: z.string(),
    type: z.literal('function').optional(),
    function: z.object({ name: z.string(), arguments: z.string() }).passthrough(),
  })
  .passthrough();

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContent, name: z.string().optional() }).passthrough(),
  z.object({ role: z.literal('developer'), content: textContent, name: z.string().optional() }).passthrough(),
  z.object({ role: z.literal('user'), content: userContent, name: z.string().optional() }).passthrough(),
  z
    .object({
      role: z.literal('assistant'),
      content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, refusalPart]))]).nullish(),
      tool_calls: z.array(toolCallSchema).nullish(),
      function_call: z.object({ name: z.string(), arguments: z.string() }).nullish(),
      refusal: z.string().nullish(),
      name: z.string().optional(),
    })
    .passthrough(),
  z.object({ role: z.literal('tool'), content: textContent, tool_call_id: z.string() }).passthrough(),
  z.object({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }).passthrough(),
]);

export const functionToolSchema = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names must be 1-64 letters, digits, _ or -'),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullish(),
      })
      .passthrough(),
  })
  .passthrough();

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1, 'messages must not be empty'),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
    n: z.number().int().positive().nullish(),
    reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullish(),
    response_format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }).passthrough(),
        z.object({ type: z.literal('json_object') }).passthrough(),
        z
          .object({
            type: z.literal('json_schema'),
            json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish() }).passthrough(),
          })
          .passthrough(),
      ])
      .nullish(),
    tools: z.array(functionToolSchema).nullish(),
    tool_choice: z
      .union([
        z.enum(['none', 'auto', 'required']),
        z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }).passthrough(),
      ])
      .nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    // Accepted and ignored: Claude Code has no way to pass them to the model.
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().nullish(),
    seed: z.number().int().nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().nullish(),
    presence_penalty: z.number().nullish(),
    frequency_penalty: z.number().nullish(),
    user: z.string().nullish(),
    metadata: openAIMetadata.nullish(),
    store: z.boolean().nullish(),
    service_tier: z.string().nullish(),
  })
  .passthrough();

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessageIn = z.infer<typeof message>;
