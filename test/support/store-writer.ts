// A process that writes to the embedded store as fast as it can and says what was acknowledged: one
// line per write whose promise resolved ("r <key>" for a record, "s <session id> <n>" for a transcript
// now holding n entries). The kill -9 test kills it mid-burst and checks every acknowledged write.
// Usage: tsx test/support/store-writer.ts <dir>
import crypto from 'node:crypto';
import { LmdbStore } from '../../src/conversations/stores/lmdb-store.js';

const store = new LmdbStore(process.argv[2], 3_600_000);
const sessions = Array.from({ length: 8 }, () => ({ id: crypto.randomUUID(), n: 0 }));
let i = 0;
const one = async (): Promise<void> => {
  const k = i++;
  if (k % 2) {
    const key = `point-${process.pid}-${k}`;
    await store.putRecord('point', key, { sessionId: crypto.randomUUID(), k, pad: 'x'.repeat(150) });
    process.stdout.write(`r ${key}\n`);
  } else {
    const s = sessions[k % sessions.length];
    const n = ++s.n;
    await store.append({ projectKey: 'p', sessionId: s.id }, [{ type: 'user', uuid: crypto.randomUUID(), n, text: 'y'.repeat(800) }]);
    process.stdout.write(`s ${s.id} ${n}\n`);
  }
};
process.stdout.write('ready\n');
// Eight writers at once, forever: a burst of turns, as many as the disk takes.
await Promise.all(Array.from({ length: 8 }, async () => {
  for (;;) await one();
}));
