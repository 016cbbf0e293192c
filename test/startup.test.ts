// The command line: `serve` prints the URL and a generated key (kept 0600), answers, and drains on
// SIGTERM; start-up fails fast on a missing CLI or a public host without a key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { loadConfig } from '../src/config/config.js';
import { ClaudeBinaryError } from '../src/engine/claude-binary.js';
import { createLogger } from '../src/log.js';
import { startGateway } from '../src/server.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';

let upstream: FakeUpstream;
let dataDir: string;
before(async () => {
  upstream = await startFakeUpstream();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-start-'));
});
after(async () => {
  await upstream.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('serve: prints the base URL and a generated key, serves, and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      GATEWAY_PORT: '0',
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_LOG_LEVEL: 'warn',
      GATEWAY_PREWARM_MODELS: '',
      ANTHROPIC_BASE_URL: upstream.url,
      ANTHROPIC_API_KEY: 'sk-ant-test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (/API key:\s+\S+/.test(out)) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
  });
  const url = /OpenAI base URL:\s+(\S+)/.exec(banner)![1];
  const key = /API key:\s+(\S+)/.exec(banner)![1];
  const keyFile = path.join(dataDir, 'api-key');
  assert.equal(fs.readFileSync(keyFile, 'utf8').trim(), key);
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);

  const client = new OpenAI({ baseURL: url, apiKey: key, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'haiku', messages: [{ role: 'user', content: '[[reply:from the bin]]' }] });
  assert.equal(r.choices[0].message.content, 'from the bin');

  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a CLI that does not run fails start-up with a clear message', async () => {
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: ['key-12345678'], claudePath: path.join(dataDir, 'no-such-claude') });
  await assert.rejects(
    startGateway({ config, env: { PATH: process.env.PATH, HOME: dataDir }, log: createLogger('silent') }),
    (e: any) => e instanceof ClaudeBinaryError && /does not run/.test(e.message) && /GATEWAY_CLAUDE_PATH/.test(e.message),
  );
});

test('a non-loopback host without a configured key is refused', async () => {
  const config = loadConfig({}, { host: '0.0.0.0', port: 0, dataDir });
  await assert.rejects(startGateway({ config, env: { PATH: process.env.PATH, HOME: dataDir }, log: createLogger('silent') }), /without GATEWAY_API_KEY/);
});
