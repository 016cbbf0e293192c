// A scripted stand-in for the Anthropic Messages API. The real Claude Code CLI talks to it in tests
// (ANTHROPIC_BASE_URL). Markers in the request's last user text choose the behaviour:
//   [[reply:TEXT]]        answer TEXT (streamed word by word)
//   [[dump]]              answer with the JSON of what reached the model (system, messages, limits)
//   [[long:N]]            answer N words, truncated at max_tokens with stop_reason max_tokens
//   [[slow:MS]]           wait MS between deltas
//   [[wait:MS]]           wait MS before the first byte
//   [[status:CODE]]       fail with HTTP CODE and an Anthropic error body (429 carries retry-after)
//   [[cut]]               start the stream, then destroy the connection (after two text deltas, or
//                         after the content blocks): every streamed attempt of the prompt is cut
//   [[cut-after:N]]       with [[cut]]: cut after N text deltas
//   [[cut-times:K]]       with [[cut]]: only the first K streamed attempts of this prompt are cut, as a
//                         connection that drops once would be; later attempts (the CLI's retry, its
//                         non-streaming re-fetch or its resume request) are answered in full
//   [[refetch:TEXT]]      with [[cut]]: any attempt after a cut one answers TEXT instead (a re-fetched
//                         answer that does not continue what was streamed)
//   [[refuse:KIND]]       fail with the Anthropic API's error body for a refusal (REFUSALS below): an
//                         organisation's policy (403), a model or a context size the plan does not
//                         include, extra usage required or exhausted, a named rate limit (429)
//   [[too-long]]          fail with the API's 400 for a prompt over the context window ("prompt is too
//                         long: N tokens > M maximum"); so does any request body over 1 MB
//   [[hang]]              never answer
//   [[thinking:TEXT]]     emit a thinking block (with signature) before the answer
//   [[tool:NAME:JSON]]    call tool NAME with input JSON (repeatable: parallel calls)
//   [[tool-text:NAME:TEXT]]  call tool NAME with free text: TEXT (newlines and all, up to `]]`) as the
//                         value of the tool's one string property (a custom tool's `input`); after
//                         the [[tool]] calls, and like them in every rule below
//   [[after-tool:TEXT]]   when the request carries tool results, answer TEXT plus the results' text
//   [[stream-error]]      after the content blocks, an `event: error` (overloaded_error) ends the stream
//   [[tool-rounds:N]]     call the [[tool]] markers again after each round of results, N rounds in all
//   [[then-tool:NAME:JSON]]  call tool NAME once the first round of results (of the [[tool]] calls)
//                         is back: a second round that needs the first one done (read, then edit)
//   [[tool-if-pushed:NAME:JSON]]  call tool NAME when the CLI's Stop hook sent the model back
// Tool results count whether they arrive as tool_result blocks (live, or resumed from a transcript,
// where the CLI's "No response requested." and a note to go on follow them) or inside the gateway's
// <conversation_record> (a flattened history).
// Without a marker it answers "Hello from the scripted upstream."
// Per credential (the x-api-key or bearer token the CLI sends), `credentials` scripts more: a status
// every request with it fails with (429 with its retry-after, 401 ...), and headers every answer to it
// carries (the `anthropic-ratelimit-unified-*` headers a subscription's plan windows come in;
// unifiedRateLimitHeaders builds them). Requests whose credential is refused are recorded too.
// Usage reports input and cache tokens as Anthropic's prompt caching would bill them (prompt-cache.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PromptCache, type CacheUsage, type PromptCacheOptions } from './prompt-cache.js';
import { allMarkers, lastUserText, marker, recordOf, roundsSinceScript, scriptText, textOf } from './upstream-script.js';

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  /** The usage reported for a /v1/messages request that was answered. */
  usage?: CacheUsage & { output_tokens: number };
}

/** What the scripted upstream does for one credential. */
export interface CredentialScript {
  /** Every request with this credential fails with this HTTP status and the API's error body. */
  status?: number;
  /** retry-after on that failure (seconds; default 7 for a 429). */
  retryAfter?: string;
  /** Headers added to every answer (and failure) for this credential. */
  headers?: Record<string, string>;
}

export interface PlanWindow {
  utilization: number;
  /** Unix seconds. */
  resetsAt: number;
}

/**
 * The `anthropic-ratelimit-unified-*` headers the Anthropic API sends a subscription login, which the
 * CLI reads to emit its rate_limit_event (status, reset, the window that decides, per-window usage).
 */
export function unifiedRateLimitHeaders(o: {
  status: 'allowed' | 'allowed_warning' | 'rejected';
  claim?: 'five_hour' | 'seven_day';
  fiveHour?: PlanWindow;
  sevenDay?: PlanWindow;
  overageStatus?: 'allowed' | 'allowed_warning' | 'rejected';
}): Record<string, string> {
  const h: Record<string, string> = { 'anthropic-ratelimit-unified-status': o.status };
  const claim = o.claim ?? 'five_hour';
  const decisive = claim === 'seven_day' ? o.sevenDay : o.fiveHour;
  if (decisive) h['anthropic-ratelimit-unified-reset'] = String(decisive.resetsAt);
  h['anthropic-ratelimit-unified-representative-claim'] = claim;
  if (o.overageStatus) h['anthropic-ratelimit-unified-overage-status'] = o.overageStatus;
  for (const [tag, w] of [['5h', o.fiveHour], ['7d', o.sevenDay]] as const) {
    if (!w) continue;
    h[`anthropic-ratelimit-unified-${tag}-utilization`] = String(w.utilization);
    h[`anthropic-ratelimit-unified-${tag}-reset`] = String(w.resetsAt);
  }
  return h;
}

/** The credential a request carries, as the upstream sees it. */
export function credentialOf(headers: http.IncomingHttpHeaders): string {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key) return key;
  return String(headers.authorization ?? '').replace(/^Bearer\s+/i, '');
}

export interface FakeUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Scripts per credential (see CredentialScript); change them at any time. */
  credentials: Map<string, CredentialScript>;
  /** The prompt cache behind the usage this upstream reports. */
  cache: PromptCache;
  /** Requests still being answered (a hung or slow one shows up here until its socket closes). */
  open(): number;
  close(): Promise<void>;
}

type Block = { type: string; [k: string]: unknown };

function errorType(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 529) return 'overloaded_error';
  return 'api_error';
}

/**
 * The refusals Anthropic answers with, as its error bodies carry them (`{"type":"error","error":
 * {"type","message"},"request_id"}`; the 429s with retry-after). The messages are the API's wording
 * for each kind; the organisation id and the links are there as the API writes them, so the tests can
 * check what the gateway strips.
 */
export const REFUSALS = {
  'org-policy': { status: 403, type: 'permission_error', message: "Your organization's policy does not allow this request: Claude Code access has been disabled by an administrator of organization 5b1c9a0e-2f3d-4c8b-9a7e-1d2c3b4a5f6e." },
  'model-not-in-plan': { status: 403, type: 'permission_error', message: 'Your current plan does not include access to claude-opus-4-1. Upgrade your plan at https://claude.ai/upgrade to use this model.' },
  'context-not-in-plan': { status: 400, type: 'invalid_request_error', message: 'The long context beta is not yet available for this subscription.' },
  'extra-usage-required': { status: 429, type: 'rate_limit_error', message: 'Extra usage is required for long context requests.' },
  'extra-usage-exhausted': { status: 429, type: 'rate_limit_error', message: 'You have used all of your extra usage for this month. Add more at https://claude.ai/settings/usage or wait until it resets.' },
  'rate-limit': {
    status: 429,
    type: 'rate_limit_error',
    message:
      'This request would exceed the rate limit for your organization (5b1c9a0e-2f3d-4c8b-9a7e-1d2c3b4a5f6e) of 30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
  },
} as const;
export type RefusalKind = keyof typeof REFUSALS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeUpstream(opts: { cache?: PromptCacheOptions } = {}): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const credentials = new Map<string, CredentialScript>();
  const cache = new PromptCache(opts.cache);
  let openCount = 0;
  let seq = 0;
  /** Streamed attempts cut so far, per prompt script ([[cut-times]]). */
  const cuts = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      openCount++;
      res.on('close', () => openCount--);
      void answer(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const path = (req.url ?? '').split('?')[0];
    let body: any = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'bad json' } }));
      return;
    }
    const recorded: RecordedRequest = { path, headers: req.headers, body };
    requests.push(recorded);
    const perCredential = credentials.get(credentialOf(req.headers));
    if (perCredential?.headers) for (const [k, v] of Object.entries(perCredential.headers)) res.setHeader(k, v);
    if (perCredential?.status && path === '/v1/messages') {
      const code = perCredential.status;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'req_fake' };
      if (code === 429 || perCredential.retryAfter) headers['retry-after'] = perCredential.retryAfter ?? '7';
      res.writeHead(code, headers);
      res.end(JSON.stringify({ type: 'error', error: { type: errorType(code), message: `scripted ${code} for this credential` } }));
      return;
    }
    if (path.endsWith('/count_tokens')) {
      const n = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: n }));
      return;
    }
    if (path !== '/v1/messages') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not here' } }));
      return;
    }

    const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
    let text = lastUserText(messages);
    // Markers inside a rebuilt record are JSON-escaped: read them from the parsed record instead.
    const record = recordOf(text);
    if (record) text = `${record.userText}\n${text.slice(text.indexOf('</conversation_record>'))}`;
    const id = `msg_fake_${++seq}`;
    // The same prompt whatever the CLI added when it resumed a cut answer (its reminder to go on).
    const promptKey = text.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();

    const status = marker(text, 'status');
    if (status !== undefined) {
      const code = Number(status);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'req_fake' };
      if (code === 429) headers['retry-after'] = '7';
      res.writeHead(code, headers);
      res.end(JSON.stringify({ type: 'error', error: { type: errorType(code), message: `scripted ${code} from http://127.0.0.1 upstream` } }));
      return;
    }
    const refusal = marker(text, 'refuse');
    if (refusal !== undefined && refusal in REFUSALS) {
      const r = REFUSALS[refusal as RefusalKind];
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'req_fake_refusal' };
      if (r.status === 429) headers['retry-after'] = '7';
      res.writeHead(r.status, headers);
      res.end(JSON.stringify({ type: 'error', error: { type: r.type, message: r.message }, request_id: 'req_fake_refusal' }));
      return;
    }
    if (marker(text, 'too-long') !== undefined || raw.length > 1024 * 1024) {
      const tokens = Math.max(200_001, Math.ceil(raw.length / 4));
      res.writeHead(400, { 'content-type': 'application/json', 'request-id': 'req_fake' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `prompt is too long: ${tokens} tokens > 200000 maximum` } }));
      return;
    }
    if (marker(text, 'hang') !== undefined) return; // the socket stays open until the client goes

    const wait = Number(marker(text, 'wait') ?? 0);
    if (wait) await sleep(wait);

    // Build the answer as a list of content blocks.
    const blocks: Block[] = [];
    const thinking = marker(text, 'thinking');
    if (thinking !== undefined) blocks.push({ type: 'thinking', thinking, signature: 'sig_fake_' + seq });

    const hasToolResults = messages.some(
      (m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b: any) => b.type === 'tool_result'),
    );
    // Tool results resumed from a transcript arrive as [results][the CLI's "No response requested."]
    // [the gateway's note to go on]: they count as the last message, as in a live round.
    const turns = messages.filter((m) => m.role !== 'system');
    const isResults = (m: any) => m && m.role === 'user' && Array.isArray(m.content) && m.content.some((b: any) => b.type === 'tool_result');
    const resumedResults = turns.length >= 3 && isResults(turns.at(-3)) && /No response requested/.test(textOf(turns.at(-2)?.content));
    const lastMsg = resumedResults ? turns.at(-3) : messages[messages.length - 1];
    const lastIsToolResult = isResults(lastMsg);
    const afterTool = marker(text, 'after-tool');
    const tools = allMarkers(text, 'tool');
    const textTools = allMarkers(text, 'tool-text');
    // After a live tool round the last user message is the results: the script is in the prompt before them.
    // The CLI hands the model a blocking Stop hook's reason as the last message of the next request.
    const pushed = /Stop hook feedback:|Stop:Callback hook blocking error/.test(textOf(messages[messages.length - 1]?.content));
    const prompt = scriptText(messages);
    const script = (lastIsToolResult || pushed) && !text.includes(prompt) ? `${text}\n${prompt}` : text;
    const pushedTools = allMarkers(script, 'tool-if-pushed');
    const rounds = messages.filter((m) => m.role === 'user' && Array.isArray(m.content) && m.content.some((b: any) => b.type === 'tool_result')).length + (record?.rounds ?? 0);
    const moreRounds = rounds < Number(marker(script, 'tool-rounds') ?? 1);
    const roundTools = allMarkers(script, 'tool');
    const roundTextTools = allMarkers(script, 'tool-text');
    const callTools = (specs: string[], texts: string[] = []) => {
      // The CLI exposes client tools under an mcp__ prefix; call the one whose name ends with NAME.
      const declared: any[] = Array.isArray(body.tools) ? body.tools : [];
      const find = (name: string) => declared.find((t) => t.name === name || String(t.name).endsWith(`__${name}`));
      const call = (name: string, input: unknown) => blocks.push({ type: 'tool_use', id: `toolu_fake_${seq}_${blocks.length}`, name: find(name)?.name ?? name, input });
      for (const spec of specs) {
        const colon = spec.indexOf(':');
        call(colon < 0 ? spec : spec.slice(0, colon), colon < 0 ? {} : JSON.parse(spec.slice(colon + 1)));
      }
      for (const spec of texts) {
        const colon = spec.indexOf(':');
        const name = colon < 0 ? spec : spec.slice(0, colon);
        const schema = find(name)?.input_schema ?? {};
        const prop = schema.required?.[0] ?? Object.keys(schema.properties ?? {})[0] ?? 'input';
        call(name, { [prop]: colon < 0 ? '' : spec.slice(colon + 1) });
      }
    };
    let stopReason = 'end_turn';
    let answerText: string;

    const thenTools = allMarkers(script, 'then-tool');
    if (lastIsToolResult && thenTools.length && roundsSinceScript(messages) === 1) {
      callTools(thenTools);
      stopReason = 'tool_use';
      answerText = '';
    } else if (pushed && pushedTools.length) {
      callTools(pushedTools);
      stopReason = 'tool_use';
      answerText = '';
    } else if ((lastIsToolResult || record?.lastResults) && moreRounds && (roundTools.length || roundTextTools.length)) {
      callTools(roundTools, roundTextTools);
      stopReason = 'tool_use';
      answerText = '';
    } else if (record?.lastResults && !lastIsToolResult) {
      answerText = `${afterTool ?? 'Tool said:'} ${record.lastResults.join(' | ')}`;
    } else if (lastIsToolResult || (hasToolResults && afterTool !== undefined && tools.length + textTools.length === 0)) {
      const results = (lastMsg.content as any[]).filter((b) => b.type === 'tool_result').map((b) => textOf(b.content));
      answerText = `${afterTool ?? marker(script, 'after-tool') ?? 'Tool said:'} ${results.join(' | ')}`;
    } else if (tools.length || textTools.length) {
      callTools(tools, textTools);
      stopReason = 'tool_use';
      answerText = '';
    } else if (marker(text, 'dump') !== undefined) {
      answerText = JSON.stringify({
        system: body.system,
        messages: body.messages,
        max_tokens: body.max_tokens,
        output_config: body.output_config,
        thinking: body.thinking,
        tools: (body.tools ?? []).map((t: any) => t.name),
      });
    } else if (marker(text, 'long') !== undefined) {
      const n = Number(marker(text, 'long'));
      answerText = Array.from({ length: n }, (_, i) => `w${i + 1}`).join(' ');
    } else {
      answerText = marker(text, 'reply') ?? 'Hello from the scripted upstream.';
      const refetch = marker(text, 'refetch');
      if (refetch !== undefined && cuts.has(promptKey)) answerText = refetch;
    }

    // Word-level "tokens": one output token per word; max_tokens truncates.
    let words = answerText ? answerText.split(/(?<= )/) : [];
    const maxTokens = Number(body.max_tokens ?? Infinity);
    if (words.length > maxTokens) {
      words = words.slice(0, maxTokens);
      stopReason = 'max_tokens';
    }
    if (answerText) blocks.push({ type: 'text', text: words.join('') });
    // The cache is the organisation's: scoped by the credential the request carries.
    const cached = cache.account(body, String(req.headers['x-api-key'] ?? req.headers.authorization ?? ''));
    const usage = { ...cached, output_tokens: Math.max(1, words.length) };
    recorded.usage = usage;

    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake' });
      res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model: body.model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage }));
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_fake' });
    const send = (event: string, data: object) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
    const slow = Number(marker(text, 'slow') ?? 0);
    const cutTimes = marker(text, 'cut-times');
    const cut = marker(text, 'cut') !== undefined && (cutTimes === undefined || (cuts.get(promptKey) ?? 0) < Number(cutTimes));
    if (cut) cuts.set(promptKey, (cuts.get(promptKey) ?? 0) + 1);
    const cutAfter = Math.max(1, Number(marker(text, 'cut-after') ?? 2));

    send('message_start', {
      message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    });
    for (const [index, block] of blocks.entries()) {
      if (block.type === 'text') {
        send('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const [i, w] of words.entries()) {
          if (slow) await sleep(slow);
          if (res.destroyed) return;
          send('content_block_delta', { index, delta: { type: 'text_delta', text: w } });
          if (cut && i + 1 >= cutAfter) {
            // Let the deltas reach the CLI first, as a real connection dropping mid-answer would.
            await sleep(300);
            res.destroy();
            return;
          }
        }
      } else if (block.type === 'thinking') {
        send('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
        send('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: block.thinking } });
        send('content_block_delta', { index, delta: { type: 'signature_delta', signature: block.signature } });
      } else if (block.type === 'tool_use') {
        send('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        const json = JSON.stringify(block.input);
        const mid = Math.floor(json.length / 2);
        send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(0, mid) } });
        send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(mid) } });
      }
      send('content_block_stop', { index });
    }
    if (cut) {
      res.destroy();
      return;
    }
    if (marker(text, 'stream-error') !== undefined) {
      // An error event mid-stream, as the API sends when it overloads after the answer began.
      send('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      res.end();
      return;
    }
    send('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    send('message_stop', {});
    res.end();
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    credentials,
    cache,
    open: () => openCount,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
