import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../config/config.js';
import { prepareWorkDir } from './workdir.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-workdir-'));

test('the shared working directory is created private, and only a real directory this user owns is used', () => {
  const root = tmp();
  try {
    const dir = path.join(root, 'workspace');
    prepareWorkDir(dir);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    prepareWorkDir(dir); // already there: fine

    const link = path.join(root, 'link');
    fs.symlinkSync(root, link);
    assert.throws(() => prepareWorkDir(link), (e: unknown) => e instanceof ConfigError && /symbolic link/.test(e.message));

    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    assert.throws(() => prepareWorkDir(file), (e: unknown) => e instanceof ConfigError && /GATEWAY_CLI_WORKDIR/.test(e.message));

    if (process.getuid?.() === 0) {
      const theirs = path.join(root, 'theirs');
      fs.mkdirSync(theirs);
      fs.chownSync(theirs, 4321, 4321);
      assert.throws(() => prepareWorkDir(theirs), (e: unknown) => e instanceof ConfigError && /owned by uid 4321/.test(e.message));
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
