// The Claude Code CLI as a client of the gateway (ANTHROPIC_BASE_URL at it, the gateway key as the
// API key), in print mode: a Bash round trip that really runs in the client's project directory,
// ToolSearch (its tool_reference results reach the API as text that names the tool, not as ""),
// and --resume of the first session.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { claudeVersion } from '../src/engine/claude-binary.js';
import { claudeClient, claudePrint, type ClaudeClient } from './support/claude-client.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let client: ClaudeClient;
let version: string;

before(async () => {
  h = await startHarness({});
  client = claudeClient(h.gw.url, TEST_KEY);
  version = await claudeVersion(client.bin, { PATH: process.env.PATH ?? '', HOME: client.home });
});
after(async () => {
  await h.close();
  fs.rmSync(client.home, { recursive: true, force: true });
});

/** Every text a tool_result carried to the scripted upstream, over all requests. */
function toolResultTexts(): string[] {
  const texts: string[] = [];
  for (const r of h.upstream.requests) {
    for (const m of r.body.messages ?? []) {
      for (const b of Array.isArray(m.content) ? m.content : []) {
        if (b.type !== 'tool_result') continue;
        if (typeof b.content === 'string') texts.push(b.content);
        else for (const c of b.content ?? []) if (c.type === 'text') texts.push(c.text);
      }
    }
  }
  return texts;
}

// A CLI client boots in seconds, but three of them on a busy 2-core machine take a while.
describe('Claude Code CLI as a client', { timeout: 480_000 }, () => {
  let firstSession: string | undefined;

  test('a Bash round trip: the client runs the command, its output makes the answer', async (t) => {
    t.diagnostic(`client: Claude Code ${version}`);
    const r = await claudePrint(client, ['--allowedTools', 'Bash'], 'cc-bash Write the file [[tool:Bash:{"command":"echo from-claude > cc.txt && cat cc.txt","description":"Write cc.txt"}]] [[after-tool:Client said:]]');
    assert.equal(r.code, 0, r.stderr.slice(-2000) + r.stdout.slice(-2000));
    assert.equal(r.json?.is_error, false);
    assert.equal(r.json?.result, 'Client said: from-claude');
    assert.equal(fs.readFileSync(path.join(client.project, 'cc.txt'), 'utf8'), 'from-claude\n');
    firstSession = r.json?.session_id;
    assert.ok(firstSession);
  });

  test('ToolSearch: the tool_reference result reaches the API as the tool it names, not empty', async () => {
    const r = await claudePrint(client, [], 'cc-search Find the fetch tool [[tool:ToolSearch:{"query":"select:WebFetch","max_results":5}]] [[after-tool:Found:]]');
    assert.equal(r.code, 0, r.stderr.slice(-2000) + r.stdout.slice(-2000));
    assert.equal(r.json?.result, 'Found: Tool loaded: WebFetch');
    const texts = toolResultTexts();
    assert.ok(texts.includes('Tool loaded: WebFetch'), JSON.stringify(texts).slice(0, 2000));
  });

  test('--resume: the first session goes on, and the model sees its earlier turn', async () => {
    assert.ok(firstSession, 'the first test made a session');
    const r = await claudePrint(client, ['--resume', firstSession!], 'cc-resume And now? [[reply:Resumed fine.]]');
    assert.equal(r.code, 0, r.stderr.slice(-2000) + r.stdout.slice(-2000));
    assert.equal(r.json?.result, 'Resumed fine.');
    assert.equal(r.json?.session_id, firstSession);
    const req = h.upstream.requests.filter((q) => JSON.stringify(q.body.messages ?? []).includes('cc-resume')).at(-1)!;
    const seen = JSON.stringify(req.body.messages);
    assert.ok(seen.includes('cc-bash') && seen.includes('from-claude'), 'the resumed request carried the first turn and its tool result');
  });
});
