// Zod schema of an Anthropic Messages request (and count_tokens). Content blocks Claude Code can take
// are typed; server-tool blocks and other kinds are accepted as opaque objects and dropped by the
// adapter. Fields Claude Code cannot honour (temperature, top_p, top_k, service_tier, container ...)
// are accepted and ignored (see the README); unknown fields pass through untouched.
import { z } from 'zod';

const cacheControl = z.unknown().optional();

const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl }).passthrough();

const base64Source = z.object({ type: z.literal('base64'), media_type: z.string(), data: z.string() }).passthrough();
const urlSource = z.object({ type: z.literal('url'), url: z.string() }).passthrough();
const fileSource = z.object({ type: z.literal('file'), file_id: z.string() }).passthrough();
const plainTextSource = z.object({ type: z.literal('text'), media_type: z.string().optional(), data: z.string() }).passthrough();
const contentSource = z.object({ type: z.literal('content'), content: z.union([z.string(), z.array(z.object({ type: z.string() }).passthrough())]) }).passthrough();

const imageBlock = z
  .object({ type: z.literal('image'), source: z.discriminatedUnion('type', [base64Source, urlSource, fileSource]), cache_control: cacheControl })
  .passthrough();
const documentBlock = z
  .object({
    type: z.literal('document'),
    source: z.discriminatedUnion('type', [base64Source, urlSource, fileSource, plainTextSource, contentSource]),
    title: z.string().nullish(),
    context: z.string().nullish(),
  })
  .passthrough();
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }).passthrough();
const toolResultBlock = z
  .object({
    type: z.literal('tool_result'),
    tool_use_id: z.string(),
    content: z.union([z.string(), z.array(z.union([textBlock, imageBlock, documentBlock, z.object({ type: z.string() }).passthrough()]))]).optional(),
    is_error: z.boolean().nullish(),
  })
  .passthrough();
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() }).passthrough();
/** Server tools' blocks, redacted thinking, search results ...: accepted, not forwarded. */
const otherBlock = z
  .object({ type: z.string() })
  .passthrough()
  .refine((b) => !['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking'].includes(b.type), { message: 'malformed content block' });

export const contentBlock = z.union([textBlock, imageBlock, documentBlock, toolUseBlock, toolResultBlock, thinkingBlock, otherBlock]);

const messageContent = z.union([z.string(), z.array(contentBlock)]);

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: messageContent }).passthrough(),
  z.object({ role: z.literal('assistant'), content: messageContent }).passthrough(),
  // API versions from 2026 allow system messages among the messages.
  z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(textBlock)]) }).passthrough(),
]);

const customTool = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'tool names must be 1-128 letters, digits, _ or -'),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()),
    type: z.literal('custom').optional(),
  })
  .passthrough();
/** Anthropic-hosted tools (web_search_20250305, bash_20250124, ...): accepted and ignored. */
const serverTool = z
  .object({ type: z.string(), name: z.string().optional() })
  .passthrough()
  .refine((t) => t.type !== 'custom', { message: 'custom tools need name and input_schema' });

const outputFormat = z.object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }).passthrough();

export const thinkingSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1) }).passthrough(),
  z.object({ type: z.literal('disabled') }).passthrough(),
  z.object({ type: z.literal('adaptive') }).passthrough(),
  z.object({ type: z.literal('between_tools') }).passthrough(),
]);

const common = {
  model: z.string().min(1),
  messages: z.array(message),
  system: z.union([z.string(), z.array(textBlock)]).nullish(),
  tools: z.array(z.union([customTool, serverTool])).nullish(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
      z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
      z.object({ type: z.literal('none') }).passthrough(),
      z.object({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
    ])
    .nullish(),
  thinking: thinkingSchema.nullish(),
  output_config: z
    .object({ effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(), format: outputFormat.nullish() })
    .passthrough()
    .nullish(),
  /** The structured-outputs beta's spelling of output_config.format. */
  output_format: outputFormat.nullish(),
};

export const messagesRequestSchema = z
  .object({
    ...common,
    messages: z.array(message).min(1, 'messages must not be empty'),
    max_tokens: z.number().int().min(1),
    stream: z.boolean().nullish(),
    stop_sequences: z.array(z.string()).nullish(),
    metadata: z.object({ user_id: z.string().nullish() }).passthrough().nullish(),
    // Accepted and ignored: Claude Code has no way to pass them to the model.
    temperature: z.number().min(0).max(1).nullish(),
    top_p: z.number().nullish(),
    top_k: z.number().int().nullish(),
    service_tier: z.string().nullish(),
  })
  .passthrough();

export const countTokensRequestSchema = z.object(common).passthrough();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensRequestSchema>;
export type ContentBlockIn = z.infer<typeof contentBlock>;
export type MessageIn = z.infer<typeof message>;
