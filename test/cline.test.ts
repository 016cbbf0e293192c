// Cline's CLI (`cline`, its native binary from the @cline/cli-<os>-<arch> package, installed by the
// test) against the gateway through Responses (its openai-native provider), set up with the command
// the README quotes (examples/cline/setup.sh, run by sh as written, only the port changed). One
// headless `cline` run runs its run_commands tool for real in a temporary work dir, then edits a file
// with its apply_patch tool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertReadmeQuotes, conversationPaths, exampleFile, offeredTools, runCli, sandbox, sandboxEnv, SEEDED, SHELL_COMMAND, SHELL_OUTPUT, withGateway, type Sandbox } from './support/coding-cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { cachedPackage, platformPackage } from './support/npm-cache.js';
import { answeredLive } from './support/tools.js';

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

  // `cline --id <session> "..."` (its only way to go on with a session) opens the interactive TUI,
  // which exits without a terminal ("interactive mode requires a TTY"): one headless run does both.
  test('cline: a run_commands round trip, then an apply_patch edit, in one run', async (t) => {
    // `cline` on PATH as a user has it; CLINE_SANDBOX: a local backend that exits with the CLI (no
    // hub daemon left running) and all state in one directory.
    const env = sandboxEnv(box, { PATH: `${path.dirname(bin)}:${process.env.PATH}`, CLINE_SANDBOX: '1', CLINE_SANDBOX_DATA_DIR: path.join(box.home, 'cline-sandbox') });
    await runCli(box, 'setup.sh', 'sh', ['-c', withGateway(SETUP, h.baseURL)], env);
    fs.writeFileSync(path.join(box.work, SEEDED.file), SEEDED.text);
    const patch = `*** Begin Patch\n*** Update File: ${SEEDED.file}\n@@\n-hello from the test\n+edited from the test\n*** End Patch`;
    const prompt = `Run a command, then edit ${SEEDED.file}. [[tool:run_commands:${JSON.stringify({ commands: [SHELL_COMMAND] })}]] [[then-tool:apply_patch:${JSON.stringify({ input: patch })}]] [[after-tool:Edit said:]]`;
    const run = await runCli(box, 'cline', bin, [prompt], env);
    assert.ok(answeredLive(h.upstream, SHELL_OUTPUT), "the command's output reached the model as the tool result");
    assert.equal(fs.readFileSync(path.join(box.work, SEEDED.file), 'utf8'), 'edited from the test\n', `the patch changed the file on disk; Cline said: ${run.stdout.slice(-1500)}`);
    assert.match(run.stdout, /Edit said:/, "the patch's result reached the model and its answer the client");
    assert.ok(offeredTools(h).some((n) => n.endsWith('__apply_patch')), "Cline's own tools reached the model");
    // The hosted tools Cline also sends (web_search, image_generation) are dropped, not offered.
    assert.ok(!offeredTools(h).some((n) => /web_search|image_generation/.test(n)), offeredTools(h).join(' '));
    t.diagnostic(`paths: ${JSON.stringify(await conversationPaths(h))}; runs: ${box.timings.join(', ')}`);
  });
});
