// Nothing of a session outlives the gateway in the shared temp folder: a resumed session's config dir
// (<tmp>/claude-resume-*, written by the Agent SDK: the transcript and a copy of the credentials) is
// removed when the gateway stops on SIGTERM while that session's process is live.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { until } from './support/harness.js';
import { startServe } from './support/serve.js';

let upstream: FakeUpstream;
let dataDir: string;
let tmp: string;
before(async () => {
  upstream = await startFakeUpstream();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-resume-'));
  tmp = path.join(dataDir, 'tmp');
  fs.mkdirSync(tmp);
});
after(async () => {
  await upstream.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const resumeDirs = () => fs.readdirSync(tmp).filter((n) => n.startsWith('claude-resume-'));

test('a SIGTERM while resumed conversations are live leaves no claude-resume-* directory', async () => {
  const key = 'resume-cleanup-key-0123';
  const served = await startServe({
    HOME: dataDir,
    TMPDIR: tmp,
    GATEWAY_PORT: '0',
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_API_KEY: key,
    GATEWAY_LOG_LEVEL: 'warn',
    GATEWAY_PREWARM_MODELS: '',
    ANTHROPIC_BASE_URL: upstream.url,
    ANTHROPIC_API_KEY: 'sk-ant-test',
  });
  const client = new OpenAI({ baseURL: served.url, apiKey: key, maxRetries: 0 });
  // Histories this gateway never served: each is written as a transcript and resumed, and its
  // process stays live for the next turn.
  for (const i of [1, 2]) {
    const r = await client.chat.completions.create({
      model: 'sonnet',
      messages: [
        { role: 'user', content: `earlier question ${i}` },
        { role: 'assistant', content: `earlier answer ${i}` },
        { role: 'user', content: `go on ${i} [[reply:went on ${i}]]` },
      ],
    });
    assert.equal(r.choices[0].message.content, `went on ${i}`);
  }
  // While the sessions are live their directories exist (what the SIGTERM must not leave behind).
  await until(() => resumeDirs().length === 2, 'the two resumed sessions to hold their directories', 30_000);

  assert.equal(await served.stop(), 0);
  assert.deepEqual(resumeDirs(), []);
});
