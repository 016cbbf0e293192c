import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors.js';
import { ClientToolServer } from './client-tools.js';
import { ToolSession } from './tool-session.js';
import { emptyUsage, type TurnEvent } from './types.js';

const tools = [{ name: 'get_weather', inputSchema: { type: 'object' } }, { name: 'get_time', inputSchema: { type: 'object' } }];
const text = (index: number, t: string): TurnEvent[] => [
  { type: 'block_start', index, block: { type: 'text' } },
  { type: 'text_delta', index, text: t },
  { type: 'block_stop', index },
];
const call = (index: number, name: string): TurnEvent => ({ type: 'block_start', index, block: { type: 'tool_use', id: `toolu_${index}`, name: `mcp__c__${name}` } });
const done = (stopReason: 'end_turn' | 'max_tokens'): TurnEvent => ({ type: 'done', stopReason, stopSequence: null, usage: emptyUsage(), costUsd: 0 });

function forced(choice: { type: 'required' } | { type: 'tool'; name: string }) {
  const server = new ClientToolServer(tools);
  server.setPolicy({ choice, parallel: true });
  return { server, session: new ToolSession(server) };
}

test('forced: an attempt the Stop hook sent back is dropped; the attempt with the call is shown whole', async () => {
  const { server, session } = forced({ type: 'required' });
  assert.deepEqual(session.filter({}, text(0, 'Just chatting.')).events, []);
  assert.equal((await server.stopHook()).decision, 'block');
  const out = session.filter({}, [...text(1, 'Calling.'), call(2, 'get_weather')]).events;
  assert.deepEqual(
    out.map((e) => e.type + ('text' in e ? `:${e.text}` : '') + (e.type === 'block_start' && e.block.type === 'tool_use' ? `:${e.block.name}` : '')),
    ['block_start', 'text_delta:Calling.', 'block_stop', 'block_start:get_weather'],
  );
  // After the call, events pass at once.
  assert.deepEqual(session.filter({}, [{ type: 'tool_input_delta', index: 2, json: '{}' }]).events.length, 1);
});

test('forced: no call after the nudges is a 502 tool_choice_not_followed, with nothing shown', async () => {
  const { server, session } = forced({ type: 'tool', name: 'get_weather' });
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(session.filter({}, text(i, `attempt ${i}`)).events, []);
    assert.equal((await server.stopHook()).decision, 'block');
  }
  assert.deepEqual(await server.stopHook(), {}, 'two nudges, then the answer stands');
  session.filter({}, text(2, 'attempt 2'));
  assert.throws(
    () => session.filter({}, [done('end_turn')]),
    (e: unknown) => e instanceof GatewayError && e.status === 502 && e.extra.code === 'tool_choice_not_followed' && !/mcp__/.test(e.message),
  );
});

test('forced: a call to another tool is refused without naming mcp__c__, and its attempt is dropped', async () => {
  const { server, session } = forced({ type: 'tool', name: 'get_weather' });
  const refused: unknown[] = [];
  server.answer = (id, result) => void refused.push([id, result]);
  assert.deepEqual(session.filter({}, [...text(0, 'Let me check the time.'), call(1, 'get_time')]).events, []);
  assert.match(JSON.stringify(refused), /only the get_weather tool may be called/);
  assert.doesNotMatch(JSON.stringify(refused), /mcp__/);
  const out = session.filter({}, [call(2, 'get_weather')]).events;
  assert.equal(out.length, 1);
});

test('forced: an answer cut at max_tokens is passed on as it is', () => {
  const { session } = forced({ type: 'required' });
  session.filter({}, text(0, 'long'));
  assert.deepEqual(
    session.filter({}, [done('max_tokens')]).events.map((e) => e.type),
    ['block_start', 'text_delta', 'block_stop', 'done'],
  );
});

test('the nudge names the client tool, never the CLI name', async () => {
  const { server } = forced({ type: 'tool', name: 'get_weather' });
  const r = await server.stopHook();
  assert.match(r.reason!, /get_weather/);
  assert.doesNotMatch(r.reason!, /mcp__/);
});
