/**
 * Soak (issue 18, part 4): 30 s of actions through the real worker against the simulator (ids
 * the API does not know among them), signed webhooks through the receiver and the breaker, bulk
 * runs and a maintenance window recurring every 2 s, on a private redis-server with every
 * retention turned down to seconds (bench/soak.ts). The deployment's key count and the bytes
 * of its keys must reach a plateau: the last third of the samples at most 10 % above the middle
 * third (means: see bench/soak.ts). Before retention (the commit before it) the keys grew from ~600 to ~1,170 in 30 s.
 * `npm run soak -- --minutes N` runs it longer and prints the same table.
 */
import { describe, expect, it } from 'vitest';
import { runSoak, sampleLine, lastSampleKinds } from '../../bench/soak.js';

describe('soak', () => {
  it('keys and memory reach a plateau while work goes on', { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const result = await runSoak({
      durationMs: 30_000,
      sampleEveryMs: 500,
      onSample: (s) => {
        lines.push(sampleLine(s));
      },
    });
    for (const k of lastSampleKinds(8)) lines.push(`  ${k.kind}: ${k.keys} keys, ${k.bytes} B`);
    expect(result.samples.length).toBeGreaterThanOrEqual(45);
    lines.push(`plateau: ${JSON.stringify(result.plateau)}`);
    console.log(lines.join('\n'));
    expect(result.plateau.keys.ok && result.plateau.keyBytes.ok).toBe(true);
  });
});
