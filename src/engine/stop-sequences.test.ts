import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StopMatcher } from './stop-sequences.js';

test('emits text that cannot start a stop sequence, holds back a possible start', () => {
  const m = new StopMatcher(['END']);
  assert.equal(m.push('hello E'), 'hello ');
  assert.equal(m.push('N'), '');
  assert.equal(m.push('D and more'), '');
  assert.equal(m.matched, 'END');
});

test('releases held text when the sequence does not complete', () => {
  const m = new StopMatcher(['END']);
  assert.equal(m.push('an E'), 'an ');
  assert.equal(m.push('Xtra E'), 'EXtra ');
  assert.equal(m.matched, null);
  assert.equal(m.flush(), 'E');
});

test('the earliest of several sequences wins', () => {
  const m = new StopMatcher(['bb', 'a']);
  assert.equal(m.push('xxbba'), 'xx');
  assert.equal(m.matched, 'bb');
  const flushed = new StopMatcher(['zz']);
  assert.equal(flushed.push('abc z'), 'abc ');
  assert.equal(flushed.flush(), 'z');
});
