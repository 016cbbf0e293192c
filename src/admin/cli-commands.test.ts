// The `keys` command in-process, on a temp data dir: what it prints, its exit codes, bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { keysCommand } from './cli-commands.js';

let dir: string;
const saved = { ...process.env };
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-keys-'));
  for (const k of Object.keys(process.env)) if (k.startsWith('GATEWAY_')) delete process.env[k];
  process.env.GATEWAY_DATA_DIR = dir;
});
after(() => {
  process.env = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the command, returning its exit code and what it wrote. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await keysCommand(args, { say: (l) => void (out += l + '\n'), warn: (l) => void (err += l + '\n') });
  return { code, out, err };
}

test('create prints the key once with its limits; list shows it without the key; revoke marks it', async () => {
  const created = await run('create', '--name', 'nightly', '--models', 'sonnet, haiku', '--rpm', '30', '--daily-tokens', '1000');
  assert.equal(created.code, 0, created.err);
  const key = /\n {2}(sk-gw-\S+)\n/.exec(created.out)?.[1];
  assert.ok(key, created.out);
  assert.match(created.out, /shown this once/);
  assert.match(created.out, /Limits: models sonnet,haiku, 30 requests\/min, 1000 tokens\/day/);
  const id = /Created app key (key_\S+)/.exec(created.out)![1];

  const listed = await run('list');
  assert.equal(listed.code, 0);
  assert.match(listed.out, new RegExp(`${id} +sk-gw-\\S+… +nightly +\\[active\\]`));
  assert.ok(!listed.out.includes(key), 'never the key again');

  const revoked = await run('revoke', id, '--json');
  assert.equal(revoked.code, 0);
  assert.equal(JSON.parse(revoked.out).id, id);
  assert.match((await run('list')).out, /\[revoked /);
});

test('bad input: usage errors exit 2 with the reason; an unknown id exits 1', async () => {
  for (const args of [[], ['frobnicate'], ['create'], ['create', '--name', 'x', '--rpm=-1'], ['create', '--name', 'x', '--tpm', 'many'], ['create', '--name', 'x', '--expires-at', '2001-01-01T00:00:00Z'], ['create', '--bogus'], ['revoke']]) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.ok(r.err.trim(), args.join(' '));
  }
  assert.match((await run('create', '--name', 'x', '--rpm=-1')).err, /rpm/);
  assert.match((await run('create', '--name', 'x', '--expires-at', '2001-01-01T00:00:00Z')).err, /past/);
  const unknown = await run('revoke', 'key_nope');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /No app key with id 'key_nope'/);
});
