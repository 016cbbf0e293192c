import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayOf, daysBetween, monthOf, secondsToNextDay, secondsToNextMinute, secondsToNextMonth } from './periods.js';

test('windows roll over at UTC boundaries', () => {
  const t = Date.parse('2026-02-28T23:59:30.200Z');
  assert.equal(dayOf(t), '2026-02-28');
  assert.equal(monthOf(t), '2026-02');
  assert.equal(secondsToNextMinute(t), 30);
  assert.equal(secondsToNextDay(t), 30);
  assert.equal(secondsToNextMonth(t), 30);
  assert.equal(secondsToNextMinute(Date.parse('2026-02-28T10:00:00.000Z')), 60);
  assert.equal(secondsToNextMonth(Date.parse('2026-12-31T00:00:00Z')), 86_400);
});

test('daysBetween includes both ends and crosses months', () => {
  assert.deepEqual(daysBetween('2026-02-27', '2026-03-01'), ['2026-02-27', '2026-02-28', '2026-03-01']);
  assert.deepEqual(daysBetween('2026-03-02', '2026-03-01'), []);
});
