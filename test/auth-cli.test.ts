// `claude-code-gateway login | status | logout` in a terminal session (standard input piped): the
// same storage and the same status facts as /auth. `login` drives the scripted setup-token stand-in.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CREDENTIALS_FILE } from '../src/auth/credentials-store.js';
import { makeFakeClaude, tokenFor } from './support/fake-claude.js';

const CLI = path.resolve('src/cli.ts');
let dir: string;
let env: NodeJS.ProcessEnv;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-cli-'));
  fs.mkdirSync(path.join(dir, 'home'));
  env = { PATH: process.env.PATH, HOME: path.join(dir, 'home'), GATEWAY_DATA_DIR: path.join(dir, 'data'), GATEWAY_CLAUDE_PATH: makeFakeClaude(dir) };
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], input?: string) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { env, input, encoding: 'utf8' });

test('login (bad code, then a good one), status, logout', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'login'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const links = ['attempt1', 'attempt2'];
  const codes = ['bad', 'cli-code-1'];
  child.stdout.on('data', (d) => {
    out += d;
    // Answer each prompt once its link is on screen.
    if (codes.length && out.includes(links[0]) && out.endsWith('Paste the code here: ')) {
      links.shift();
      child.stdin.write(codes.shift() + '\n');
    }
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 0, out + err);
  assert.match(err, /did not accept that code/);
  assert.match(out, /Logged in with Claude/);
  const token = tokenFor('cli-code-1');
  assert.ok(out.includes(`…${token.slice(-4)}`) && !out.includes(token), 'masked, never whole');
  const file = path.join(dir, 'data', CREDENTIALS_FILE);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  const st = run(['status', '--json']);
  assert.equal(st.status, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.equal(s.authenticated, true);
  assert.equal(s.method, 'oauth_token');
  assert.match(s.source, /^stored/);
  assert.match(s.cli_version, /\d+\.\d+/);
  assert.ok(!st.stdout.includes(token));

  const human = run(['status']);
  assert.match(human.stdout, /method\s+oauth_token/);

  const out2 = run(['logout']);
  assert.equal(out2.status, 0);
  assert.match(out2.stdout, /Removed the stored credential/);
  assert.ok(!fs.existsSync(file));
  const after = run(['status', '--json']);
  assert.equal(after.status, 1, 'not logged in: exit 1');
  assert.equal(JSON.parse(after.stdout).authenticated, false);
});

test('login --token reads a pasted key from standard input', () => {
  const key = 'sk-ant-api03-from-stdin-0123456789abcdefghij';
  const r = run(['login', '--token'], key + '\n');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes(key));
  assert.equal(JSON.parse(run(['status', '--json']).stdout).method, 'api_key');
  const bad = run(['login', '--token'], 'nonsense\n');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /neither a Claude token/);
  run(['logout']);
});
