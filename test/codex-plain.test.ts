// The real Codex CLI with a plain provider config and its own default model name (gpt-5.5, aliased to
// sonnet in the gateway's config file), no model catalog: exactly the README's two files
// (examples/codex/plain/), only the port changed. Codex then offers its model family's tools,
// among them a client-executed `tool_search` (tool discovery) and the hosted `web_search`, which the
// gateway leaves out, and `apply_patch` as a freeform tool. `codex exec` creates a file with
// apply_patch, `codex exec resume` runs a shell command that reads it back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { codexSetup, codexVersion, type CodexSetup } from './support/codex.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../examples/codex/plain');
const CONFIG = fs.readFileSync(path.join(EXAMPLES, 'config.toml'), 'utf8');
const GATEWAY_YAML = path.join(EXAMPLES, 'gateway.yaml');

let h: Harness;
let cx: CodexSetup;
const version = codexVersion();

before(async () => {
  // The gateway reads the README's YAML file as GATEWAY_CONFIG would give it.
  const { modelAliases } = loadConfig({ GATEWAY_CONFIG: GATEWAY_YAML });
  h = await startHarness({ modelAliases });
  cx = codexSetup({ 'config.toml': CONFIG.replace('http://127.0.0.1:4000/v1', h.baseURL) });
});
after(async () => {
  await h?.close();
  cx?.remove();
});

const modelCalls = () => h.upstream.requests.filter((r) => r.path === '/v1/messages');

describe(`Codex CLI (${version}), plain config, its own model name`, () => {
  test('the README quotes the plain config and the alias file verbatim', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    assert.ok(readme.includes(CONFIG.trim()), 'README has examples/codex/plain/config.toml');
    assert.ok(readme.includes(fs.readFileSync(GATEWAY_YAML, 'utf8').trim()), 'README has examples/codex/plain/gateway.yaml');
    assert.match(CONFIG, /^model = "gpt-5\.5"$/m, "Codex's own model name");
    assert.doesNotMatch(CONFIG, /model_catalog_json/, 'no model catalog');
  });

  test('codex exec: apply_patch creates a file; exec resume runs a shell command that reads it', async (t) => {
    const file = path.join(cx.work, 'notes.txt');
    const create = '*** Begin Patch\n*** Add File: notes.txt\n+plain config works\n*** End Patch';
    const first = await cx.run([`Create notes.txt. [[tool-text:apply_patch:${create}]] [[after-tool:Patch result:]]`]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'plain config works\n', 'apply_patch created the file');
    assert.match(first.last, /^Patch result: .*Success/s, 'the patch output reached the model');

    // What the model was offered: Codex's tools, apply_patch with its grammar; no tool-discovery tool.
    const offered = (modelCalls().at(-1)!.body.tools as { name: string; description?: string; input_schema: any }[]) ?? [];
    const names = offered.map((x) => x.name.replace(/^mcp__c__/, ''));
    t.diagnostic(`tools the model saw: ${names.join(', ')}`);
    const patch = offered.find((x) => x.name.endsWith('apply_patch'));
    assert.ok(patch, 'the model saw apply_patch');
    assert.deepEqual(patch.input_schema.required, ['input']);
    assert.match(patch.description ?? '', /Begin Patch/);
    assert.ok(names.includes('exec_command'), 'the model saw the shell tool');
    assert.ok(!names.some((n) => /tool_search|web_search/.test(n)), 'tool search and hosted web search are left out');
    assert.ok(modelCalls().every((r) => /^claude-/.test(r.body.model)), 'gpt-5.5 was answered by a Claude model');

    const second = await cx.run(['resume', '--last', 'Show it. [[tool:exec_command:{"cmd":"cat notes.txt"}]] [[after-tool:Shell said:]]']);
    assert.match(second.last, /^Shell said: .*plain config works/s, 'the command ran in the work dir and its output reached the model');

    const stats = (await (await fetch(`${h.gw.url}/stats`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { conversation_paths: Record<string, number> };
    t.diagnostic(`conversation paths: ${JSON.stringify(stats.conversation_paths)}; runs: ${cx.timings.join(', ')}`);
    assert.equal(stats.conversation_paths.flattened, 0);
  });
});
