// Kilo's CLI (an opencode fork; its native binary from the @kilocode/cli-<os>-<arch> package, which
// the test installs: @kilocode/cli cannot be a dev dependency, as its optional platform packages were
// not all published, so `npm ci` refuses the lock file) against the gateway through Chat Completions, configured with the file the README quotes
// (examples/kilo/kilo.json), only the port changed. `kilo run` runs its bash tool for real in a
// temporary work dir, `kilo run --continue` continues that session and reads then edits a file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, exampleFile, offeredTools, runCli, sandbox, sandboxEnv, SEEDED, shellEditContinue, SHELL_COMMAND, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { cachedPackage, platformPackage } from './support/npm-cache.js';

const VERSION = '7.7.7';
const CONFIG = exampleFile('kilo', 'kilo.json');
let h: Harness;
let box: Sandbox;
let configFile: string;
let kilo: string;

before(async () => {
  const [harness, dir] = await Promise.all([startHarness({}), cachedPackage(platformPackage('@kilocode/cli'), VERSION)]);
  h = harness;
  kilo = path.join(dir, 'bin', 'kilo');
  box = sandbox('kilo');
  configFile = path.join(box.home, 'kilo.json');
  // The README's file; the test lets bash and edit run without asking (nobody is there to approve)
  // and loads only the gateway's provider (Kilo's own would fetch its model list from the network).
  fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(withGateway(CONFIG, h.baseURL)), permission: { bash: 'allow', edit: 'allow' }, autoupdate: false, share: 'disabled', enabled_providers: ['gateway'] }, null, 2));
});
after(async () => {
  await h?.close();
  box?.remove();
});

describe(`Kilo CLI (${VERSION})`, () => {
  test('the README quotes examples/kilo/kilo.json verbatim', () => assertReadmeQuotes(CONFIG, 'examples/kilo/kilo.json'));

  test('kilo run: a bash round trip; kilo run --continue: an edit in the same conversation', async (t) => {
    // Kilo's calls home (model list, updates, sharing, LSP downloads, Claude Code imports) off: loopback only.
    const env = sandboxEnv(box, {
      KILO_CONFIG: configFile,
      KILO_DISABLE_MODELS_FETCH: '1',
      KILO_DISABLE_AUTOUPDATE: '1',
      KILO_DISABLE_SHARE: '1',
      KILO_DISABLE_LSP_DOWNLOAD: '1',
      KILO_DISABLE_CLAUDE_CODE: '1',
      KILO_DISABLE_DEFAULT_PLUGINS: '1',
      KILO_DISABLE_SESSION_INGEST: '1',
    });
    // The prompt goes on stdin: like opencode, `run` re-quotes argv words that contain spaces.
    const run = (prompt: string, resume: boolean) => runCli(box, resume ? 'kilo run --continue' : 'kilo run', kilo, ['run', ...(resume ? ['--continue'] : [])], env, prompt);
    const file = path.join(box.work, SEEDED.file);
    const { added } = await shellEditContinue(h, box, {
      shell: `[[tool:bash:${JSON.stringify({ command: SHELL_COMMAND, description: 'Print a computed word' })}]]`,
      // Kilo edits only a file read in the session: read it, then, with its text back, edit it.
      edit: `[[tool:read:${JSON.stringify({ filePath: file })}]] [[then-tool:edit:${JSON.stringify({ filePath: file, oldString: 'hello', newString: 'edited' })}]]`,
      run,
    });
    assert.ok(offeredTools(h).some((n) => n.endsWith('__edit')), "Kilo's own tools reached the model");
    t.diagnostic(`continued run's paths: ${JSON.stringify(added)}; runs: ${box.timings.join(', ')}`);
  });
});
