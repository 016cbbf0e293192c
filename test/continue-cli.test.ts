// Continue's CLI (@continuedev/cli, `cn`) against the gateway through Chat Completions, configured
// with the file the README quotes (examples/continue/config.yaml), only the port changed. `cn -p`
// runs its Bash tool for real in a temporary work dir, `cn -p --resume` continues that session and
// reads then edits a file with its Read and MultiEdit tools; the model's side is scripted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, exampleFile, offeredTools, packageBin, packageVersion, runCli, sandbox, sandboxEnv, SEEDED, shellEditContinue, SHELL_COMMAND, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';

const CN = packageBin('@continuedev/cli', 'cn');
const CONFIG = exampleFile('continue', 'config.yaml');
let h: Harness;
let box: Sandbox;
let configFile: string;

before(async () => {
  h = await startHarness({});
  box = sandbox('continue');
  fs.mkdirSync(path.join(box.home, '.continue'));
  configFile = path.join(box.home, '.continue', 'config.yaml');
  fs.writeFileSync(configFile, withGateway(CONFIG, h.baseURL));
});
after(async () => {
  await h?.close();
  box?.remove();
});

describe(`Continue CLI (${packageVersion('@continuedev/cli')})`, () => {
  test('the README quotes examples/continue/config.yaml verbatim', () => assertReadmeQuotes(CONFIG, 'examples/continue/config.yaml'));

  test('cn -p: a Bash round trip; cn -p --resume: an edit in the same conversation', async (t) => {
    const env = sandboxEnv(box, { FORCE_NO_TTY: '1' });
    // --auto: every tool allowed (headless, nobody to approve).
    const run = (prompt: string, resume: boolean) =>
      runCli(box, resume ? 'cn -p --resume' : 'cn -p', process.execPath, [CN, '--config', configFile, '--auto', ...(resume ? ['--resume'] : []), '-p', prompt], env);
    const { added } = await shellEditContinue(h, box, {
      shell: `[[tool:Bash:${JSON.stringify({ command: SHELL_COMMAND })}]]`,
      // Continue offers a Claude model MultiEdit (not Edit) and edits only a file read in this process:
      // the model reads it, then, with the file's text back, edits it (it checks every call of an answer
      // before running any, so the two cannot be one answer).
      edit: `[[tool:Read:${JSON.stringify({ filepath: SEEDED.file })}]] [[then-tool:MultiEdit:${JSON.stringify({ file_path: path.join(box.work, SEEDED.file), edits: [{ old_string: 'hello', new_string: 'edited' }] })}]]`,
      run,
    });
    assert.ok(offeredTools(h).some((n) => n.endsWith('__MultiEdit')), "Continue's own tools reached the model");
    t.diagnostic(`continued run's paths: ${JSON.stringify(added)}; runs: ${box.timings.join(', ')}`);
  });
});
