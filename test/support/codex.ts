// One way to run the real Codex CLI (@openai/codex, its native binary) headless against a gateway:
// a temporary HOME and CODEX_HOME holding the config under test, a work dir the agent's tools run
// in, and Codex's own calls home turned off. Used by every Codex test (the catalog config and the
// plain one), so each drives Codex the same way.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { TEST_KEY } from './harness.js';

const require = createRequire(import.meta.url);
const CODEX = require.resolve('@openai/codex/bin/codex.js');

/** The installed Codex, e.g. `codex-cli 0.171.0`. */
export const codexVersion = (): string => execFileSync(process.execPath, [CODEX, '--version'], { encoding: 'utf8' }).trim();

export interface CodexRun {
  stdout: string;
  stderr: string;
  /** Codex's last message (`-o`). */
  last: string;
}

export interface CodexSetup {
  /** The temporary home: Codex's home is `codexHome`, the agent works in `work`. */
  tmp: string;
  codexHome: string;
  work: string;
  /** Wall time of each run, for the report (no threshold). */
  timings: string[];
  /** `codex exec ARGS...`, or `codex exec resume ...` when the first arg is 'resume'. */
  run(args: string[]): Promise<CodexRun>;
  /** Every session file (rollout) Codex wrote. */
  rollouts(): string[];
  remove(): void;
}

/** A Codex home with `files` (name -> contents) in it, and a runner. */
export function codexSetup(files: Record<string, string>): CodexSetup {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-codex-'));
  const codexHome = path.join(tmp, 'codex-home');
  const work = path.join(tmp, 'work');
  fs.mkdirSync(codexHome);
  fs.mkdirSync(work);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(codexHome, name), text);
  const timings: string[] = [];

  async function run(args: string[]): Promise<CodexRun> {
    const started = Date.now();
    const last = path.join(tmp, `last-${Date.now()}.txt`);
    const env = { PATH: process.env.PATH, HOME: tmp, CODEX_HOME: codexHome, GATEWAY_API_KEY: TEST_KEY, RUST_LOG: 'error', NO_COLOR: '1' };
    // As root in CI: no sandbox to set up and no one to approve; every command is the script's.
    // The work dir is the process's cwd (`exec resume` takes no -C).
    // Codex's own calls home (analytics, plugin lists, update check) are off: the test talks to loopback only.
    const offline = ['-c', 'analytics.enabled=false', '-c', 'check_for_update_on_startup=false', '--disable', 'plugins', '--disable', 'remote_plugin'];
    const flags = ['--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', ...offline, '-o', last];
    const [sub, ...rest] = args;
    const argv = sub === 'resume' ? ['exec', 'resume', ...flags, ...rest] : ['exec', ...flags, ...args];
    // stdin closed: with a pipe open, codex exec waits to read more of the prompt from it.
    const child = spawn(process.execPath, [CODEX, ...argv], { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `codex ${argv.slice(0, 2).join(' ')} exited ${code}:\n${stderr.split('\n').filter((l) => !/<unknown>/.test(l)).slice(-40).join('\n')}`);
    timings.push(`${sub === 'resume' ? 'exec resume' : 'exec'} ${Date.now() - started} ms`);
    return { stdout, stderr, last: fs.existsSync(last) ? fs.readFileSync(last, 'utf8') : '' };
  }

  return {
    tmp,
    codexHome,
    work,
    timings,
    run,
    rollouts: () =>
      fs
        .readdirSync(codexHome, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => fs.readFileSync(path.join(codexHome, f), 'utf8')),
    remove: () => fs.rmSync(tmp, { recursive: true, force: true }),
  };
}
