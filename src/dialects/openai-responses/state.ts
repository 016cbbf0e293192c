// Stored responses (store: true, OpenAI's default) and what they make possible: previous_response_id,
// item_reference, and GET/DELETE /v1/responses/{id}. A record holds the final response object and the
// request's own input items (normalised, each with an id), owned by the gateway key that made it; it
// lives in the conversation store and expires with the store's retention. The route calls this module
// before the (pure) adapter: a chain is expanded into plain input items here, never in the adapter.
import type { ConversationStore } from '../../conversations/stores/store.js';
import { clip, GatewayError } from '../../errors.js';
import type { InputItem, ResponsesRequest } from './schema.js';

export const RESPONSES_NS = 'responses';
/** The longest previous_response_id chain followed. */
export const MAX_CHAIN = 1000;

export type StoredItem = Record<string, unknown> & { id: string; type: string };

export interface StoredResponse {
  /** The final response object, exactly as the client got it. */
  response: Record<string, unknown> & { id: string; output: StoredItem[] };
  /** The request's own input items (not the chain's), item_references resolved. */
  input: StoredItem[];
  previous_response_id: string | null;
  /** The hashed gateway key that made it: nobody else sees it. */
  owner: string;
  instructions: string | null;
}

/** Records are keyed by owner too: another key's lookup misses even before the owner check. */
const recordKey = (owner: string, id: string) => `${owner}:${id}`;

export async function loadResponse(store: ConversationStore, owner: string, id: string): Promise<StoredResponse | undefined> {
  const r = await store.getRecord<StoredResponse>(RESPONSES_NS, recordKey(owner, id));
  return r && r.owner === owner ? r : undefined;
}

export async function saveResponse(store: ConversationStore, record: StoredResponse): Promise<void> {
  await store.putRecord(RESPONSES_NS, recordKey(record.owner, record.response.id), record);
}

export async function deleteResponse(store: ConversationStore, owner: string, id: string): Promise<boolean> {
  if (!(await loadResponse(store, owner, id))) return false;
  await store.deleteRecord(RESPONSES_NS, recordKey(owner, id));
  return true;
}

export function responseNotFound(id: string): GatewayError {
  return new GatewayError('not_found', `No response found with id '${clip(id)}'.`);
}

function previousNotFound(id: string): GatewayError {
  return new GatewayError('invalid_request', `Previous response with id '${clip(id)}' not found.`, {
    param: 'previous_response_id',
    code: 'previous_response_not_found',
  });
}

/** The chain ending at `id`, oldest first. Unknown, expired, deleted or another key's: a 400. */
export async function loadChain(store: ConversationStore, owner: string, id: string): Promise<StoredResponse[]> {
  const chain: StoredResponse[] = [];
  const seen = new Set<string>();
  for (let next: string | null = id; next; ) {
    if (seen.has(next)) throw new GatewayError('invalid_request', `The previous_response_id chain of '${clip(id)}' loops at '${clip(next)}'.`, { param: 'previous_response_id' });
    if (chain.length >= MAX_CHAIN) {
      throw new GatewayError('invalid_request', `The previous_response_id chain of '${clip(id)}' is longer than ${MAX_CHAIN} responses.`, { param: 'previous_response_id' });
    }
    seen.add(next);
    const r = await loadResponse(store, owner, next);
    if (!r) throw previousNotFound(next);
    chain.push(r);
    next = r.previous_response_id;
  }
  return chain.reverse();
}

/** An output item as an input item: messages (their text), tool calls and signed reasoning; else undefined. */
function outputAsInput(o: StoredItem): InputItem | undefined {
  if (o.type === 'message') {
    const content = ((o.content as { type: string; text?: string; refusal?: string }[] | undefined) ?? [])
      .filter((p) => (p.type === 'output_text' && p.text) || (p.type === 'refusal' && p.refusal))
      .map((p) => (p.type === 'refusal' ? { type: 'refusal' as const, refusal: p.refusal! } : { type: 'output_text' as const, text: p.text! }));
    return content.length ? { type: 'message', id: o.id, role: 'assistant', content } : undefined;
  }
  const namespace = typeof o.namespace === 'string' ? { namespace: o.namespace } : {};
  if (o.type === 'function_call') {
    return { type: 'function_call', id: o.id, call_id: String(o.call_id), name: String(o.name), ...namespace, arguments: String(o.arguments ?? '{}') };
  }
  if (o.type === 'custom_tool_call') {
    return { type: 'custom_tool_call', id: o.id, call_id: String(o.call_id), name: String(o.name), ...namespace, input: String(o.input ?? '') };
  }
  // Reasoning that carries signed thinking goes back to the model; a bare summary is left out.
  if (o.type === 'reasoning' && typeof o.encrypted_content === 'string') return structuredClone(o) as InputItem;
  return undefined;
}

const outputsAsInput = (output: StoredItem[]): InputItem[] => output.map(outputAsInput).filter((i): i is InputItem => i !== undefined);

/** Everything before the new request, oldest first: each response's input items, then its output. */
export function chainHistory(chain: StoredResponse[]): InputItem[] {
  return chain.flatMap((r) => [...(r.input as InputItem[]), ...outputsAsInput(r.response.output)]);
}

/** Our own item ids name the response they came from: msg_<turn>_<n>, fc_..., rs_..., or _i<n> for inputs. */
const OWN_ITEM_ID = /^[a-z]+_([0-9a-f]{32})_i?\d+$/;

/**
 * Replaces item_reference items with the items they name: from the chain first, else from the stored
 * response our own item id points at (what the AI SDK sends with store: true). Same owner only.
 */
async function resolveReferences(store: ConversationStore, owner: string, input: InputItem[], chain: StoredResponse[]): Promise<InputItem[]> {
  if (!input.some((i) => i.type === 'item_reference')) return input;
  /** What an item of a stored response is as input, or null when it has nothing to replay. */
  const itemsOf = (r: StoredResponse) =>
    new Map<string, InputItem | null>([
      ...r.input.map((i) => [i.id, i as InputItem] as const),
      // A referenced reasoning item stays one (the adapter replays its summary), as when sent inline.
      ...r.response.output.map((o) => [o.id, o.type === 'reasoning' ? (o as InputItem) : (outputAsInput(o) ?? null)] as const),
    ]);
  const known = new Map<string, InputItem | null>();
  for (const r of chain) for (const [id, i] of itemsOf(r)) known.set(id, i);
  const out: InputItem[] = [];
  for (const [n, item] of input.entries()) {
    if (item.type !== 'item_reference') {
      out.push(item);
      continue;
    }
    const id = String((item as { id: string }).id);
    let found = known.get(id);
    const own = found === undefined ? OWN_ITEM_ID.exec(id) : null;
    if (own) {
      const r = await loadResponse(store, owner, `resp_${own[1]}`);
      found = r && itemsOf(r).get(id);
    }
    if (found === undefined) throw new GatewayError('invalid_request', `Item with id '${clip(id)}' not found ('input.${n}' is an item_reference).`, { param: `input.${n}` });
    if (found) out.push(structuredClone(found));
  }
  return out;
}

export interface PreparedInput {
  /** The chain's items, oldest first (empty without previous_response_id). */
  history: InputItem[];
  /** The request's own input as items, item_references resolved. */
  input: InputItem[];
}

/** Loads the previous_response_id chain and resolves item_references: what the adapter needs. */
export async function prepareInput(store: ConversationStore, owner: string, req: ResponsesRequest): Promise<PreparedInput> {
  const chain = req.previous_response_id ? await loadChain(store, owner, req.previous_response_id) : [];
  const input: InputItem[] = typeof req.input === 'string' ? [{ type: 'message', role: 'user', content: req.input }] : req.input;
  return { history: chainHistory(chain), input: await resolveReferences(store, owner, input, chain) };
}

const PREFIX: Record<string, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  custom_tool_call: 'ctc',
  custom_tool_call_output: 'ctco',
  reasoning: 'rs',
};

/** The request's input items as stored: item objects with a type and an id (the client's, or ours). */
export function normaliseInput(input: InputItem[], turnId: string): StoredItem[] {
  return input.map((item, n) => {
    const i = structuredClone(item) as Record<string, unknown>;
    if (i.type === undefined && 'role' in i) i.type = 'message';
    const type = String(i.type);
    if (type === 'message' && typeof i.content === 'string') {
      i.content = [i.role === 'assistant' ? { type: 'output_text', text: i.content, annotations: [] } : { type: 'input_text', text: i.content }];
    }
    const id = typeof i.id === 'string' && i.id ? i.id : `${PREFIX[type] ?? 'item'}_${turnId}_i${n}`;
    return { ...i, id, type };
  });
}

export interface ItemsPage {
  object: 'list';
  data: StoredItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** GET /v1/responses/{id}/input_items: newest first by default, `after` an item id, limit 1..100. */
export function inputItemsPage(items: StoredItem[], q: { order?: string; limit?: string; after?: string }): ItemsPage {
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new GatewayError('invalid_request', `Invalid value for 'order': expected 'asc' or 'desc'.`, { param: 'order', code: 'invalid_value' });
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new GatewayError('invalid_request', `Invalid value for 'limit': expected an integer from 1 to 100.`, { param: 'limit', code: 'invalid_value' });
  }
  let list = order === 'asc' ? [...items] : [...items].reverse();
  if (q.after !== undefined) {
    const at = list.findIndex((i) => i.id === q.after);
    list = at < 0 ? [] : list.slice(at + 1);
  }
  const data = list.slice(0, limit);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: list.length > limit };
}
