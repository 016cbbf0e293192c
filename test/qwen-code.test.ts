// Qwen Code (@qwen-code/qwen-code, run on Node 22; both installed by the test from the npm registry:
// as a dev dependency it breaks `npm ci`, its optional @teddyzhu/clipboard-* packages for other
// platforms were never published) against the gateway through Chat Completions,
// configured with the settings file the README quotes (examples/qwen-code/settings.json), only the
// port changed. `qwen -p` runs its shell tool for real in a temporary work dir, `qwen --continue -p`
// continues that session and edits a file with its edit tool; the model's side is scripted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, exampleFile, offeredTools, packageBin, runCli, sandbox, sandboxEnv, SEEDED, shellEditContinue, SHELL_COMMAND, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { cachedPackage, node22 } from './support/npm-cache.js';

const VERSION = '0.24.4';
const SETTINGS = exampleFile('qwen-code', 'settings.json');
let h: Harness;
let box: Sandbox;
let node: string;
let qwen: string;

before(async () => {
  let dir: string;
  [h, node, dir] = await Promise.all([startHarness({}), node22(), cachedPackage('@qwen-code/qwen-code', VERSION)]);
  qwen = packageBin('@qwen-code/qwen-code', 'qwen', dir);
  box = sandbox('qwen');
  fs.mkdirSync(path.join(box.home, '.qwen'));
  // The README's file, plus what keeps a test run on loopback: no update check, no usage statistics.
  const settings = { ...JSON.parse(withGateway(SETTINGS, h.baseURL)), general: { enableAutoUpdate: false }, privacy: { usageStatisticsEnabled: false } };
  fs.writeFileSync(path.join(box.home, '.qwen', 'settings.json'), JSON.stringify(settings, null, 2));
});
after(async () => {
  await h?.close();
  box?.remove();
});

describe(`Qwen Code (${VERSION})`, () => {
  test('the README quotes examples/qwen-code/settings.json verbatim', () => assertReadmeQuotes(SETTINGS, 'examples/qwen-code/settings.json'));

  test('qwen -p: a shell round trip; qwen --continue -p: an edit in the same conversation', async (t) => {
    const env = sandboxEnv(box);
    const run = (prompt: string, resume: boolean) =>
      runCli(box, resume ? 'qwen --continue -p' : 'qwen -p', node, [qwen, '--yolo', ...(resume ? ['--continue'] : []), '-p', prompt], env);
    const { added } = await shellEditContinue(h, box, {
      shell: `[[tool:run_shell_command:${JSON.stringify({ command: SHELL_COMMAND, is_background: false })}]]`,
      // Qwen Code edits only a file read in this session: the model reads it, then edits it (two calls in one answer).
      edit: `[[tool:read_file:${JSON.stringify({ file_path: path.join(box.work, SEEDED.file) })}]] [[tool:edit:${JSON.stringify({ file_path: path.join(box.work, SEEDED.file), old_string: 'hello', new_string: 'edited' })}]]`,
      run,
    });
    assert.ok(offeredTools(h).some((n) => n.endsWith('__run_shell_command')), "Qwen Code's own tools reached the model");
    t.diagnostic(`node ${node}; continued run's paths: ${JSON.stringify(added)}; runs: ${box.timings.join(', ')}`);
  });
});
