// The pure part of `npm test`'s check for the Debian packages the suite runs (prerequisites.mjs):
// what is missing -> nothing, the apt-get commands, or the message naming packages and command.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREREQUISITES, planPrerequisites } from './prerequisites.mjs';

test('nothing missing: nothing to do, whoever runs it', () => {
  assert.deepEqual(planPrerequisites({ missing: [], isRoot: false, hasApt: false }), { action: 'none' });
  assert.deepEqual(planPrerequisites({ missing: [], isRoot: true, hasApt: true }), { action: 'none' });
});

test('as root with apt: one apt-get update, then one install of exactly what is missing', () => {
  const plan = planPrerequisites({ missing: ['chromium', 'haproxy'], isRoot: true, hasApt: true });
  assert.equal(plan.action, 'install');
  assert.deepEqual(plan.commands, [
    ['apt-get', 'update', '-qq'],
    ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium', 'haproxy'],
  ]);
});

test('not root: stop, naming the packages and the one command that installs them', () => {
  const plan = planPrerequisites({ missing: ['redis-server', 'haproxy'], isRoot: false, hasApt: true });
  assert.equal(plan.action, 'stop');
  assert.match(plan.message, /needs redis-server, haproxy \(Debian packages\)/);
  assert.match(plan.message, /\n  sudo apt-get install -y --no-install-recommends redis-server haproxy\n/);
});

test('no apt-get: stop, naming the packages and the Debian command for reference', () => {
  const plan = planPrerequisites({ missing: ['haproxy'], isRoot: true, hasApt: false });
  assert.equal(plan.action, 'stop');
  assert.match(plan.message, /needs haproxy \(Debian package\)/);
  assert.match(plan.message, /no apt-get on this machine/);
  assert.match(plan.message, /sudo apt-get install -y --no-install-recommends haproxy/);
});

test('the suite\'s commands map to their Debian packages, haproxy included', () => {
  assert.deepEqual(
    PREREQUISITES.map((p: { command: string; pkg: string }) => `${p.command}:${p.pkg}`),
    ['redis-server:redis-server', 'chromium:chromium', 'haproxy:haproxy'],
  );
});
