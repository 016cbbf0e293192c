// Cline's CLI (`cline`, its native binary from the @cline/cli-<os>-<arch> package, installed by the
// test) against the gateway through Responses (its openai-native provider), set up with the command
// the README quotes (examples/cline/setup.sh, run by sh as written, only the port changed). `cline`
// runs its run_commands tool for real in a temporary work dir; `cline --id <session>` continues that
// session and edits a file with its apply_patch tool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, exampleFile, offeredTools, runCli, sandbox, sandboxEnv, SEEDED, shellEditContinue, SHELL_COMMAND, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { cachedPackage, platformPackage } from './support/npm-cache.js';

const VERSION = '3.0.65';
const SETUP = exampleFile('cline', 'setup.sh');
let h: Harness;
let box: Sandbox;
let bin: string;

before(async () => {
  const [harness, dir] = await Promise.all([startHarness({}), cachedPackage(platformPackage('@cline/cli'), VERSION)]);
  h = harness;
  bin = path.join(dir, 'bin', 'cline');
  box = sandbox('cline');
});
after(async () => {
  await h?.close();
  box?.remove();
});

describe(`Cline CLI (${VERSION})`, () => {
  test('the README quotes examples/cline/setup.sh verbatim', () => assertReadmeQuotes(SETUP, 'examples/cline/setup.sh'));

  test('cline: a run_commands round trip; cline --id: an apply_patch edit in the same conversation', async (t) => {
    // `cline` on PATH as a user has it; CLINE_SANDBOX: a local backend that exits with the CLI (no
    // hub daemon left running).
    const state = path.join(box.home, 'cline-sandbox');
    const env = sandboxEnv(box, { PATH: `${path.dirname(bin)}:${process.env.PATH}`, CLINE_SANDBOX: '1', CLINE_SANDBOX_DATA_DIR: state });
    await runCli(box, 'setup.sh', 'sh', ['-c', withGateway(SETUP, h.baseURL)], env);
    // The first run's session: the one folder in a sessions/ folder of the state dir.
    const session = () => fs.readdirSync(state, { recursive: true, encoding: 'utf8' }).find((p) => path.basename(path.dirname(p)) === 'sessions');
    const run = async (prompt: string, resume: boolean) => {
      const found = resume ? session() : undefined;
      const id = found && path.basename(found);
      if (resume) assert.ok(id, `a session under ${state}: ${fs.readdirSync(state, { recursive: true, encoding: 'utf8' }).join(' ')}`);
      return runCli(box, resume ? 'cline --id' : 'cline', bin, [...(id ? ['--id', id] : []), prompt], env);
    };
    const patch = `*** Begin Patch\n*** Update File: ${SEEDED.file}\n@@\n-hello from the test\n+edited from the test\n*** End Patch`;
    const { added } = await shellEditContinue(h, box, {
      shell: `[[tool:run_commands:${JSON.stringify({ commands: [SHELL_COMMAND] })}]]`,
      edit: `[[tool-text:apply_patch:${patch}]]`,
      run,
    });
    assert.ok(offeredTools(h).some((n) => n.endsWith('__apply_patch')), "Cline's own tools reached the model");
    t.diagnostic(`continued run's paths: ${JSON.stringify(added)}; runs: ${box.timings.join(', ')}`);
  });
});
