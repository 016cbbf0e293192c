import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

test('env wins over the YAML file, which wins over defaults', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-cfg-')), 'c.yaml');
  fs.writeFileSync(file, 'port: 5000\nmaxQueue: 7\nmodelAliases:\n  gpt-4o: sonnet\n');
  const c = loadConfig({ GATEWAY_CONFIG: file, GATEWAY_PORT: '6000', GATEWAY_API_KEY: 'key-one-12345, key-two-12345' });
  assert.equal(c.port, 6000);
  assert.equal(c.maxQueue, 7);
  assert.deepEqual(c.modelAliases, { 'gpt-4o': 'sonnet' });
  assert.deepEqual(c.apiKeys, ['key-one-12345', 'key-two-12345']);
  assert.equal(c.host, '127.0.0.1');
});

test('bad values are reported by name', () => {
  assert.throws(() => loadConfig({ GATEWAY_PORT: 'eighty' }), (e: any) => e instanceof ConfigError && /port/.test(e.message));
  assert.throws(() => loadConfig({ GATEWAY_API_KEY: 'short' }), /at least 8/);
});

test('a shared store without GATEWAY_SECRET_KEY is a start-up error naming the variable; a short key is refused', () => {
  assert.throws(() => loadConfig({ GATEWAY_REDIS_URL: 'redis://127.0.0.1:6379' }), (e: Error) => e instanceof ConfigError && /GATEWAY_SECRET_KEY is required with GATEWAY_REDIS_URL/.test(e.message));
  assert.throws(() => loadConfig({ GATEWAY_REDIS_URL: 'redis://127.0.0.1:6379', GATEWAY_SECRET_KEY: 'short' }), /at least 32 characters/);
  const c = loadConfig({ GATEWAY_REDIS_URL: 'redis://127.0.0.1:6379', GATEWAY_SECRET_KEY: 'x'.repeat(32), GATEWAY_ADVERTISE_URL: 'http://10.0.0.5:4000', GATEWAY_DRAIN_DELAY_MS: '1500' });
  assert.equal(c.advertiseUrl, 'http://10.0.0.5:4000');
  assert.equal(c.drainDelayMs, 1500);
  assert.equal(loadConfig({}).secretKey, undefined, 'no key needed without a shared store');
});
