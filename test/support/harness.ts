// Starts the real gateway (real CLI) against the scripted upstream, in a temp data dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import type { ConversationStore } from '../../src/conversations/stores/store.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

export const TEST_KEY = 'test-key-0123456789';
/** GATEWAY_SECRET_KEY for gateways on a shared Redis (the cluster's keys derive from it). */
export const TEST_SECRET = 'test-cluster-secret-0123456789abcdef0123';

export interface Harness {
  gw: Gateway;
  upstream: FakeUpstream;
  baseURL: string;
  dataDir: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  prewarm?: string[];
  env?: NodeJS.ProcessEnv;
  /** A scripted upstream shared with another gateway (not closed by close()). */
  upstream?: FakeUpstream;
  /** A data dir that outlives this gateway (a restart); not removed by close(). */
  dataDir?: string;
  /** The conversation store, made for the data dir (default: the gateway's own, LMDB or Redis). */
  store?: (dataDir: string) => ConversationStore;
}

export async function startHarness(overrides: ConfigInput = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const upstream = opts.upstream ?? (await startFakeUpstream());
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-test-'));
  const home = path.join(dataDir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-upstream',
    ...opts.env,
  };
  // Spares start at the normal CPU priority here: the test machine is shared with other work, against
  // which a lowered one would make the waits for a spare depend on that work (the priority itself is
  // tested in new-conversation-bytes.test.ts).
  const config = loadConfig({}, { port: 0, dataDir, apiKeys: [TEST_KEY], logLevel: 'silent', cliMaxRetries: 0, spareNice: 0, secretKey: TEST_SECRET, drainDelayMs: 0, ...overrides });
  const gw = await startGateway({ config, env, log: createLogger(process.env.TEST_LOG ?? 'silent'), prewarm: opts.prewarm, store: opts.store?.(dataDir) });
  return {
    gw,
    upstream,
    baseURL: `${gw.url}/v1`,
    dataDir,
    async close() {
      await gw.stop();
      if (!opts.upstream) await upstream.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits for a condition that an event will make true; polls only because processes exit outside our control. */
export async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
