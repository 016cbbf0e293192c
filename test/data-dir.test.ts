// A data dir the gateway cannot use stops start-up with a message that names the folder, the user
// that needs access and the fix: exit code 1, no stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../src/config/config.js';
import { dataDirMessage, ensureDataDir } from '../src/server.js';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-datadir-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('serve with a data dir it cannot create exits 1 with a clear message and no stack', async () => {
  // Tests run as root, where permissions do not stop writes: a path under a regular file fails for anyone.
  const file = path.join(tmp, 'not-a-folder');
  fs.writeFileSync(file, '');
  const dataDir = path.join(file, 'data');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { PATH: process.env.PATH, HOME: tmp, GATEWAY_PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_PREWARM_MODELS: '', GATEWAY_CLAUDE_PATH: path.join(tmp, 'no-claude') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 1);
  assert.match(err, /^claude-code-gateway: cannot use the data dir /);
  assert.ok(err.includes(dataDir), 'names the data dir');
  assert.ok(err.includes(`${file} is a file, not a folder`), 'names what is in the way');
  assert.match(err, /GATEWAY_DATA_DIR/);
  assert.ok(!/\n\s+at /.test(err), `no stack trace: ${err}`);
});

test('the permission message names the folder, the user and the fix', () => {
  const m = dataDirMessage('/data', 'EACCES', '/data', { uid: 1000, gid: 1000 });
  assert.match(m, /^cannot write the data dir \/data: permission denied \(EACCES\)/);
  assert.match(m, /runs as uid 1000, gid 1000/);
  assert.match(m, /sudo chown -R 1000:1000 \/data/);
  assert.match(m, /chmod u\+rwx \/data/);
  assert.match(m, /GATEWAY_DATA_DIR/);

  const inside = dataDirMessage('/data', 'EPERM', '/data/api-key', { uid: 10001, gid: 0 });
  assert.match(inside, /cannot write \/data\/api-key \(in the data dir \/data\): permission denied \(EPERM\)/);
  assert.match(inside, /chown -R 10001:0 \/data/);

  assert.match(dataDirMessage('/data', 'EROFS', '/data', { uid: 1, gid: 1 }), /read-only file system.*GATEWAY_DATA_DIR/);
});

test('ensureDataDir creates a missing folder and refuses one it cannot use', () => {
  const fresh = path.join(tmp, 'a', 'b');
  ensureDataDir(fresh);
  assert.ok(fs.statSync(fresh).isDirectory());
  assert.deepEqual(fs.readdirSync(fresh), [], 'the write probe is removed');
  const file = path.join(tmp, 'file');
  fs.writeFileSync(file, '');
  assert.throws(() => ensureDataDir(file), (e: any) => e instanceof ConfigError && e.message.includes(`${file} is a file`));
});

test('a data dir the gateway user cannot write (root-owned, as a mounted host folder) exits 1 naming the folder and the uid', async () => {
  // As root (CI), permissions stop nobody: run the gateway as an unprivileged uid, as the image does.
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? { uid: 65534, gid: 65534 } : { uid: process.getuid!(), gid: process.getgid!() };
  const dataDir = fs.mkdtempSync(path.join(tmp, 'root-owned-'));
  fs.chmodSync(tmp, 0o755);
  fs.chmodSync(dataDir, asRoot ? 0o755 : 0o555);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-datadir-home-'));
  fs.chmodSync(home, 0o777);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { PATH: process.env.PATH, HOME: home, TMPDIR: home, GATEWAY_PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_PREWARM_MODELS: '', GATEWAY_CLAUDE_PATH: path.join(tmp, 'no-claude') },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asRoot ? user : {}),
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  fs.rmSync(home, { recursive: true, force: true });
  assert.equal(code, 1, err);
  assert.ok(err.startsWith(`claude-code-gateway: cannot write the data dir ${dataDir}: permission denied (EACCES)`), `names the folder itself: ${err}`);
  assert.ok(err.includes(`runs as uid ${user.uid}, gid ${user.gid}`), 'names the uid');
  assert.ok(err.includes(`sudo chown -R ${user.uid}:${user.gid} ${dataDir}`), 'says the fix');
  assert.ok(!/\n\s+at /.test(err), `no stack trace: ${err}`);
});
