// The canonical form that decides whether a request continues a recorded conversation: what it
// ignores (a client's date-only reminder, whitespace and text splits) and what it must not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '../engine/types.js';
import { canonicalMessage, chainStart, extendChain } from './history.js';

const text = (t: string) => ({ type: 'text' as const, text: t });
const user = (...parts: string[]): ChatMessage => ({ role: 'user', content: parts.map(text) });
const assistant = (t: string): ChatMessage => ({ role: 'assistant', content: [text(t)] });
// What Qwen Code 0.24 sends with a prompt, and leaves out when `--continue` replays it.
const QWEN_DATE =
  '<system-reminder>\nThe current date is: Monday, December 7, 2026. Note: This is the authoritative current date — it may differ from the "Today\'s date" mentioned earlier in the conversation startup context.\n</system-reminder>';

test("a history replayed without the client's date reminder continues the conversation it was sent in", () => {
  const root = chainStart('owner', 'shape');
  const sent = [user('<system-reminder>\nSkills: batch\n</system-reminder>', QWEN_DATE, 'Say hi'), assistant('hi there')];
  const replayed = [user('<system-reminder>\nSkills: batch\n</system-reminder>', 'Say hi'), assistant('hi there')];
  assert.equal(extendChain(root, replayed), extendChain(root, sent));
  // A bare date sentence, and the reminder inside the prompt's own text part, count alike.
  assert.equal(canonicalMessage(user('<system-reminder>The current date is: 2026-12-07.</system-reminder>Say hi')), canonicalMessage(user('Say hi')));
  assert.equal(canonicalMessage(user(`${QWEN_DATE}\nSay hi`)), canonicalMessage(user('Say hi')));
});

test('everything else still tells two conversations apart', () => {
  const base = canonicalMessage(user('Say hi'));
  // A reminder with more than the date (files, skills, todos) counts.
  assert.notEqual(canonicalMessage(user('<system-reminder>The current date is: 2026-12-07. The file a.ts now reads: x</system-reminder>Say hi')), base);
  assert.notEqual(canonicalMessage(user('<system-reminder>\nSkills: batch\n</system-reminder>', 'Say hi')), base);
  // The same words outside a reminder are the user's text.
  assert.notEqual(canonicalMessage(user('The current date is: 2026-12-07. Say hi')), base);
  // Only user messages: an assistant that says it keeps it.
  assert.notEqual(canonicalMessage(assistant(`${QWEN_DATE}hi`)), canonicalMessage(assistant('hi')));
  // The answers still decide: the same prompt with another answer is another conversation.
  const root = chainStart('owner', 'shape');
  assert.notEqual(extendChain(root, [user(QWEN_DATE, 'Say hi'), assistant('hi there')]), extendChain(root, [user('Say hi'), assistant('hello')]));
});
