// pi (@mariozechner/pi-coding-agent) against the gateway through Chat Completions, configured with
// exactly the file the README quotes (examples/pi/models.json), only the port changed. `pi -p` runs
// its bash tool for real in a temporary work dir, `pi -p -c` continues that session and edits a file
// with its edit tool; the model's side is scripted ([[tool:bash:...]], [[tool:edit:...]]).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, exampleFile, offeredTools, packageBin, packageVersion, runCli, sandbox, sandboxEnv, shellEditContinue, SHELL_COMMAND, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';

const PI = packageBin('@mariozechner/pi-coding-agent', 'pi');
const MODELS = exampleFile('pi', 'models.json');
let h: Harness;
let box: Sandbox;

before(async () => {
  h = await startHarness({});
  box = sandbox('pi');
  const agentDir = path.join(box.home, '.pi', 'agent');
  fs.mkdirSync(agentDir, { recursive: true });
  fs.writeFileSync(path.join(agentDir, 'models.json'), withGateway(MODELS, h.baseURL));
});
after(async () => {
  await h?.close();
  box?.remove();
});

describe(`pi (${packageVersion('@mariozechner/pi-coding-agent')})`, () => {
  test('the README quotes examples/pi/models.json verbatim', () => assertReadmeQuotes(MODELS, 'examples/pi/models.json'));

  test('pi -p: a bash round trip; pi -p -c: an edit in the same conversation', async (t) => {
    // PI_OFFLINE: no update check or telemetry; the test talks to loopback only.
    const env = sandboxEnv(box, { PI_OFFLINE: '1' });
    const run = (prompt: string, resume: boolean) =>
      runCli(box, resume ? 'pi -p -c' : 'pi -p', process.execPath, [PI, '--model', 'claude-code-gateway/sonnet', ...(resume ? ['-c'] : []), '-p', prompt], env);
    const { added } = await shellEditContinue(h, box, {
      shell: `[[tool:bash:${JSON.stringify({ command: SHELL_COMMAND })}]]`,
      edit: `[[tool:edit:${JSON.stringify({ path: 'notes.txt', edits: [{ oldText: 'hello', newText: 'edited' }] })}]]`,
      run,
    });
    assert.ok(offeredTools(h).some((n) => n.endsWith('__edit')), "pi's own tools reached the model");
    t.diagnostic(`continued run's paths: ${JSON.stringify(added)}; runs: ${box.timings.join(', ')}`);
  });
});
