// Several Claude credentials (issue 13): overflow credentials are used only when every primary is
// limited. The real CLI against a scripted upstream that tells credentials apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { TEST_KEY } from './support/harness.js';
import { DEFAULT_KEY, pooled, SECOND_KEY, status, who } from './support/accounts.js';

const SPARE_KEY = 'sk-ant-api03-spare-0000000000000000000000';

test('overflow is used only when every primary is limited', async () => {
  const h = await pooled([
    { name: 'spare', api_key: SPARE_KEY, role: 'overflow', priority: -5 },
    { name: 'second', api_key: SECOND_KEY, priority: 1 },
  ]);
  try {
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const ask = async (text: string) => (await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: text }] })).choices[0].message.content;
    assert.equal(await ask('[[reply:a]]'), 'a');
    assert.deepEqual(who(h), [DEFAULT_KEY], 'a primary first, although the overflow has the lower priority number');
    h.upstream.credentials.set(DEFAULT_KEY, { status: 429 });
    assert.equal(await ask('[[reply:b]]'), 'b');
    assert.deepEqual(who(h).slice(1), [DEFAULT_KEY, SECOND_KEY], 'the next primary, not the overflow');
    h.upstream.credentials.set(SECOND_KEY, { status: 429 });
    assert.equal(await ask('[[reply:c]]'), 'c');
    assert.deepEqual(who(h).slice(3), [SECOND_KEY, SPARE_KEY], 'the overflow once every primary is limited');
    const s = await status(h);
    assert.deepEqual(
      s.accounts.map((a: any) => [a.name, a.role, a.state]),
      [
        ['default', 'primary', 'cooling_down'],
        ['spare', 'overflow', 'active'],
        ['second', 'primary', 'cooling_down'],
      ],
    );
  } finally {
    await h.close();
  }
});
