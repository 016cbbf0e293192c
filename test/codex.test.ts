// The real Codex CLI (@openai/codex, its native binary) against the gateway (real Claude Code CLI,
// scripted upstream), configured with exactly the files the README quotes (examples/codex/), only
// the port changed. `codex exec` makes a real apply_patch (a custom/freeform tool) that creates a
// file in a temporary work dir, `codex exec resume` a second one that edits it, then a shell round
// trip reads it back. The model's side is scripted: [[tool-text:apply_patch:...]] calls the custom
// tool with the raw patch, [[tool:exec_command:...]] the shell tool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { codexSetup, codexVersion, type CodexSetup } from './support/codex.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../examples/codex');
const CONFIG = fs.readFileSync(path.join(EXAMPLES, 'config.toml'), 'utf8');
const CATALOG = fs.readFileSync(path.join(EXAMPLES, 'claude-code-gateway-models.json'), 'utf8');

let h: Harness;
let cx: CodexSetup;
/** The installed Codex, named in the suite's title: `codex-cli 0.171.0`. */
const version = codexVersion();

before(async () => {
  h = await startHarness({});
  // The README's files as written; only the gateway's address is this test's.
  cx = codexSetup({ 'config.toml': CONFIG.replace('http://127.0.0.1:4000/v1', h.baseURL), 'claude-code-gateway-models.json': CATALOG });
});
after(async () => {
  await h?.close();
  cx?.remove();
});

const responsesCalls = () => h.upstream.requests.filter((r) => r.path === '/v1/messages');

describe(`Codex CLI (${version})`, () => {
  test('the README quotes the example config files verbatim', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    assert.ok(readme.includes(CONFIG.trim()), 'README has examples/codex/config.toml');
    assert.ok(readme.includes(CATALOG.trim()), 'README has examples/codex/claude-code-gateway-models.json');
  });

  test('codex exec: apply_patch creates a file, exec resume edits it with apply_patch, a shell command reads it back', async (t) => {
    t.diagnostic(`Codex version: ${version}`);
    assert.match(version, /^codex-cli \d+\.\d+\.\d+/);
    const file = path.join(cx.work, 'greeting.txt');

    const create = '*** Begin Patch\n*** Add File: greeting.txt\n+hello from codex\n*** End Patch';
    const first = await cx.run([`Create greeting.txt. [[thinking:Plan the new file.]] [[tool-text:apply_patch:${create}]] [[after-tool:Patch result:]]`]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'hello from codex\n', 'apply_patch created the file');
    assert.match(first.last, /^Patch result: .*Success/s, 'the patch output reached the model');
    // Codex offered apply_patch as a tool with one string input, the grammar in its description.
    const tool = responsesCalls().at(-1)!.body.tools.find((x: any) => String(x.name).endsWith('__apply_patch'));
    assert.ok(tool, 'the model saw apply_patch');
    assert.deepEqual(tool.input_schema.required, ['input']);
    assert.match(tool.description, /Begin Patch/);

    // Codex asked for encrypted_content and keeps the reasoning items to send back: the signed thinking.
    const rollouts = cx.rollouts();
    assert.ok(rollouts.some((r) => /"encrypted_content":"ccg1\./.test(r)), 'the session keeps the reasoning envelope');

    const edit = '*** Begin Patch\n*** Update File: greeting.txt\n@@\n-hello from codex\n+hello from codex, edited\n*** End Patch';
    const second = await cx.run(['resume', '--last', `Now edit it. [[tool-text:apply_patch:${edit}]] [[after-tool:Edit result:]]`]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'hello from codex, edited\n', 'apply_patch edited the file');
    assert.match(second.last, /^Edit result: .*Success/s);
    // The resumed session sent the first turn back: the model saw it as its own history.
    const history = JSON.stringify(responsesCalls().at(-1)!.body.messages);
    assert.ok(history.includes('Add File: greeting.txt'), 'the earlier custom tool call is in the history');
    assert.ok(history.includes('Plan the new file.') && history.includes('sig_fake_'), "the model's signed thinking is in its history");

    const third = await cx.run(['resume', '--last', 'Show it. [[tool:exec_command:{"cmd":"cat greeting.txt"}]] [[after-tool:Shell said:]]']);
    assert.match(third.last, /^Shell said: .*hello from codex, edited/s, 'the command ran in the work dir and its output reached the model');

    const stats = (await (await fetch(`${h.gw.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { conversation_paths: Record<string, number> };
    t.diagnostic(`conversation paths: ${JSON.stringify(stats.conversation_paths)}; runs: ${cx.timings.join(', ')}`);
    // Codex sends the whole history each time (store: false): the gateway recognised it every time.
    assert.equal(stats.conversation_paths.imported, 0);
    assert.equal(stats.conversation_paths.flattened, 0);
  });
});
