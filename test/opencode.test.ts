// opencode (`opencode run`) against the gateway, configured as the README says: a provider of type
// @ai-sdk/openai-compatible whose baseURL is the gateway. The scripted model calls opencode's bash
// tool; opencode really runs it in its project directory, and its output makes the answer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { opencodeBinary, opencodeConfig, opencodeRun, opencodeVersion } from './support/opencode.js';
import { answeredLive } from './support/tools.js';

let h: Harness;
const bin = opencodeBinary();
let version: string;

before(async () => {
  [h, version] = await Promise.all([startHarness({}), opencodeVersion(bin)]);
});
after(() => h.close());

// opencode takes tens of seconds to boot on a busy 2-core machine: a longer limit than the default.
test('opencode run: a bash round trip, really executed in the project directory', { timeout: 480_000 }, async (t) => {
  t.diagnostic(`opencode ${version}`);
  const prompt = 'Write the file [[tool:bash:{"command":"echo made-by-bash > out.txt && cat out.txt","description":"Write out.txt"}]] [[after-tool:Bash said:]]';
  const run = await opencodeRun(bin, opencodeConfig(h.baseURL), prompt, TEST_KEY);
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  // bash ran in opencode's project directory (not the gateway's workspace).
  assert.equal(fs.readFileSync(path.join(run.project, 'out.txt'), 'utf8'), 'made-by-bash\n');
  // The answer came from the tool's true output, continuing the suspended turn.
  assert.match(run.stdout, /Bash said: made-by-bash/);
  assert.ok(answeredLive(h.upstream, 'made-by-bash'));
  // opencode's tools reached the model under their own names (behind the CLI's prefix).
  const tools = h.upstream.requests.flatMap((r) => (r.body.tools ?? []).map((x: any) => x.name));
  assert.ok(tools.includes('mcp__c__bash'));
});
