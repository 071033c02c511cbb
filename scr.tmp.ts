import { Redis } from 'ioredis';
import { keysFor } from './src/store/keys.ts';
import { addToBatch, openBatch } from './src/store/batch-record.ts';
import { claimKeys } from './src/store/claim-keys.ts';
import { dropPrefix } from './src/store/drop-prefix.ts';
const redis = new Redis();
const prefix = `{sdx-scr-${process.pid}}`; const keys = keysFor(prefix);
await openBatch(redis, keys, { id: 'b', action: 'deactivate', source: 'x', reason: '' });
const N = 250, R = 200;
const stat = async () => { const s = await redis.info('commandstats'); const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(s); return Number(m?.[2] ?? 0); };
let rb = 0, rc = 0;
for (let r = 0; r < R; r++) {
  const ids = Array.from({ length: N }, (_, i) => `dprov_${r}_${i}_abcdefghijklmnop`);
  let a = await stat(); await addToBatch(redis, keys, 'b', 1, ids); rb += (await stat()) - a;
  a = await stat();
  await claimKeys(redis, keys, ids.map((id) => ({ key: `bulk:b:${id}`, fingerprint: `deactivate ${id} by bulk`, action: 'deactivate', providerId: id, source: 'bulk' })));
  rc += (await stat()) - a;
}
console.log(`redis-side per id: addToBatch ${(rb / (N * R)).toFixed(2)} µs, claim ${(rc / (N * R)).toFixed(2)} µs`);
await dropPrefix(redis, prefix); await redis.quit();
