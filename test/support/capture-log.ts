// A gateway like the harness's, whose log lines the test can read (pino into an array).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { TEST_KEY } from './harness.js';

export interface LoggedGateway {
  gw: Gateway;
  upstream: FakeUpstream;
  lines: Record<string, any>[];
  /** Every log line as written. */
  raw: string[];
  close(): Promise<void>;
}

export async function startLoggedGateway(overrides: ConfigInput = {}): Promise<LoggedGateway> {
  const upstream = await startFakeUpstream();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-log-'));
  const home = path.join(dataDir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const lines: Record<string, any>[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l));
      }
      cb();
    },
  });
  const log = pino({ level: 'debug', base: undefined }, sink);
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: [TEST_KEY], cliMaxRetries: 0, warmProfiles: 0, ...overrides });
  const env = { PATH: process.env.PATH, HOME: home, ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: 'sk-ant-test-upstream' };
  const gw = await startGateway({ config, env, log });
  return {
    gw,
    upstream,
    lines,
    raw,
    async close() {
      await gw.stop();
      await upstream.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
