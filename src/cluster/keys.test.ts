// The cluster's pure crypto: subkeys, sealing login secrets, signing the internal hop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveKeys, NonceCache, open, OpenFailed, seal, signHop, verifyHop, HOP_VALIDITY_MS } from './keys.js';

const SECRET = 'a-long-operator-secret-0123456789abcdef';

test('subkeys differ per purpose and per secret, and are stable', () => {
  const k = deriveKeys(SECRET);
  assert.equal(k.atRest.length, 32);
  assert.notDeepEqual(k.atRest, k.hop);
  assert.notDeepEqual(k.hop, k.session);
  assert.deepEqual(deriveKeys(SECRET).hop, k.hop);
  assert.notDeepEqual(deriveKeys(SECRET + 'x').atRest, k.atRest);
});

test('a sealed secret opens with its key and label only, and never contains the plaintext', () => {
  const k = deriveKeys(SECRET);
  const plain = JSON.stringify({ secret: 'sk-ant-oat01-secret-token-aaaaaaaaaaaaaaaaaaaa' });
  const s = seal(k.atRest, 'credentials', plain);
  assert.ok(!JSON.stringify(s).includes('sk-ant'), 'ciphertext only');
  assert.notEqual(seal(k.atRest, 'credentials', plain).iv, s.iv, 'a fresh nonce each time');
  assert.equal(open(k.atRest, 'credentials', s), plain);
  assert.throws(() => open(k.atRest, 'accounts', s), OpenFailed);
  assert.throws(() => open(deriveKeys('another-secret-0123456789abcdef012').atRest, 'credentials', s), OpenFailed);
  const altered = { ...s, ct: Buffer.from('x' + Buffer.from(s.ct, 'base64url').toString('latin1').slice(1), 'latin1').toString('base64url') };
  assert.throws(() => open(k.atRest, 'credentials', altered), OpenFailed);
  assert.throws(() => open(k.atRest, 'credentials', { plain: 'text' }), OpenFailed);
});

test('a hop verifies only with the same key, method, path and body, within its validity', () => {
  const { hop } = deriveKeys(SECRET);
  const body = Buffer.from('{"model":"sonnet"}');
  const now = 1_800_000_000_000;
  const sig = signHop(hop, 'replica-a', 'POST', '/v1/chat/completions', body, now);
  assert.deepEqual(verifyHop(hop, sig, 'POST', '/v1/chat/completions', body, now + 1000), { ok: true, from: 'replica-a', nonce: sig.nonce, time: now });
  assert.deepEqual(verifyHop(hop, {}, 'POST', '/v1/chat/completions', body, now), { ok: false, why: 'unsigned' });
  assert.equal((verifyHop(hop, sig, 'POST', '/v1/messages', body, now) as { why: string }).why, 'bad_signature');
  assert.equal((verifyHop(hop, sig, 'POST', '/v1/chat/completions', Buffer.from('{"model":"opus"}'), now) as { why: string }).why, 'bad_signature');
  assert.equal((verifyHop(hop, { ...sig, from: 'replica-b' }, 'POST', '/v1/chat/completions', body, now) as { why: string }).why, 'bad_signature');
  assert.equal((verifyHop(deriveKeys('x'.repeat(40)).hop, sig, 'POST', '/v1/chat/completions', body, now) as { why: string }).why, 'bad_signature');
  assert.equal((verifyHop(hop, sig, 'POST', '/v1/chat/completions', body, now + HOP_VALIDITY_MS + 1) as { why: string }).why, 'expired');
  assert.equal((verifyHop(hop, sig, 'POST', '/v1/chat/completions', body, now - HOP_VALIDITY_MS - 1) as { why: string }).why, 'expired');
});

test('a nonce is accepted once', () => {
  const cache = new NonceCache();
  const now = 1_800_000_000_000;
  assert.equal(cache.first('n1', now, now), true);
  assert.equal(cache.first('n1', now, now + 10), false);
  assert.equal(cache.first('n2', now, now + 10), true);
});
