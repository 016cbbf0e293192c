// `claude-code-gateway login --name NAME` and `accounts list|disable|enable|remove` (issue 13): the
// pool's file from a terminal, with clear errors for duplicate and unknown names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_KEY } from './support/accounts.js';

const TEAM_B = 'sk-ant-oat01-team-b-00000000000000000000000000';
const KEEPER = 'sk-ant-api03-keeper-00000000000000000000000000';

test('the command line: login --name --token, accounts list, disable, remove, and clear errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-pool-cli-'));
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      GATEWAY_DATA_DIR: path.join(dir, 'data'),
      ANTHROPIC_API_KEY: DEFAULT_KEY,
      GATEWAY_ACCOUNTS: JSON.stringify([{ name: 'from-env', api_key: KEEPER, role: 'overflow' }]),
    };
    const run = (args: string[], input?: string) => spawnSync(process.execPath, ['--import', 'tsx', path.resolve('src/cli.ts'), ...args], { env, input, encoding: 'utf8' });
    const login = run(['login', '--name', 'seat-2', '--priority', '3', '--token'], TEAM_B + '\n');
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /Stored 'seat-2'/);
    assert.ok(!login.stdout.includes(TEAM_B));
    const list = JSON.parse(run(['accounts', 'list', '--json']).stdout);
    assert.deepEqual(list.map((a: any) => [a.name, a.origin, a.role, a.priority, a.disabled]), [
      ['default', 'default', 'primary', 0, false],
      ['from-env', 'env', 'overflow', 0, false],
      ['seat-2', 'stored', 'primary', 3, false],
    ]);
    assert.ok(!JSON.stringify(list).includes(TEAM_B));
    const dup = run(['login', '--name', 'seat-2', '--token'], KEEPER + '\n');
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /already in the pool/);
    assert.equal(run(['accounts', 'disable', 'from-env']).status, 0);
    const envRemove = run(['accounts', 'remove', 'from-env']);
    assert.equal(envRemove.status, 1);
    assert.match(envRemove.stderr, /declared in GATEWAY_ACCOUNTS/);
    const unknown = run(['accounts', 'remove', 'nobody']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no Claude credential named 'nobody'/);
    assert.equal(run(['accounts', 'remove', 'seat-2']).status, 0);
    const human = run(['accounts', 'list']).stdout;
    assert.match(human, /from-env\s+api_key\s+overflow\s+priority 0\s+disabled/);
    assert.doesNotMatch(human, /seat-2/);
    const badRole = run(['login', '--name', 'x', '--role', 'boss', '--token'], TEAM_B + '\n');
    assert.equal(badRole.status, 2);
    assert.match(badRole.stderr, /--role is primary or overflow/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
