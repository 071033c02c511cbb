/**
 * The window source was called `maintenance` in versions 0.1.x. What an older version stored in Redis
 * (written here in its old form, by hand) is read as `window`, and a window key bound with the
 * old word is the same intent, not a conflict, when the window asks for it again. The account,
 * stored as `provider_id` (events) or `providerId` (queued jobs) then, reads as `account_id`.
 */
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/model.js';
import { readBindings } from '../../src/store/binding.js';
import { claimKeys, findConflict, type Claim } from '../../src/store/claim-keys.js';
import { EVENT_FIELD } from '../../src/store/event-codec.js';
import { readRecentEvents } from '../../src/store/events.js';
import { intentHoldId } from '../../src/store/hold-record.js';
import { readHolds, releaseHolds } from '../../src/store/holds.js';
import { redisPerTest } from '../support/context.js';

const ctx = redisPerTest();
const A = 'dprov_legacy_a';
const KEY = `window:w1:20261206T010000Z:${A}:end`;

/** A binding as 0.1 wrote it: fingerprint and source with the old word. */
async function oldBinding(state = 'succeeded'): Promise<void> {
  const { redis, keys } = ctx.current();
  await redis.hset(keys.binding(KEY), {
    fp: `activate ${A} by maintenance`,
    seq: '7',
    state,
    action: 'activate',
    provider_id: A,
    source: 'maintenance',
    created_at: String(Date.now()),
  });
}

const claim = (): Claim => ({
  key: KEY,
  fingerprint: fingerprint({ action: 'activate', accountId: A, source: 'window' }),
  action: 'activate',
  accountId: A,
  source: 'window',
});

describe('data stored with the old source word `maintenance`', () => {
  it('a window key bound with it is the same intent: no conflict, the binding answers', async () => {
    const { redis, keys } = ctx.current();
    await oldBinding();
    expect(await findConflict(redis, keys, [claim()])).toBeUndefined();
    expect(await claimKeys(redis, keys, [claim()])).toEqual({
      ok: true,
      claimed: [{ state: 'succeeded', seq: 7 }],
    });
    // Another action under the same key is still a conflict.
    const other = { ...claim(), fingerprint: `deactivate ${A} by window` };
    expect(await findConflict(redis, keys, [other])).toMatchObject({ key: KEY });
    expect((await claimKeys(redis, keys, [other])).ok).toBe(false);
  });

  it("a window's end binding its activation in the release's own step finds it the same", async () => {
    const { redis, keys } = ctx.current();
    await oldBinding('queued');
    const hold = 'window:w1:20261206T010000Z';
    await redis.hset(keys.holds(A), {
      [`h:${hold}`]: JSON.stringify({ source: 'maintenance', ref: 'w1', reason: '', at: 'x' }),
      before: 'active',
      since: String(Date.now()),
    });
    await redis.zadd(keys.holdsIndex, Date.now(), A);
    const [out] = await releaseHolds(redis, keys, [A], hold, () => ({
      key: KEY,
      source: 'window',
      mode: 'base',
    }));
    expect(out?.activation).toEqual({ key: KEY, state: 'queued', seq: 7 });
  });

  it('holds, bindings and events read back with `window` (and events with `account_id`)', async () => {
    const { redis, keys } = ctx.current();
    await oldBinding();
    await redis.hset(keys.holds(A), {
      'h:window:w1:o1': JSON.stringify({
        source: 'maintenance',
        ref: 'w1:o1',
        reason: 'r',
        at: 'x',
      }),
    });
    const event = {
      type: 'action.succeeded',
      provider_id: A,
      action: 'activate',
      idempotency_key: KEY,
      job_id: '1',
      source: 'maintenance',
      source_ref: 'w1:o1',
      reason: '',
      attempts: 1,
      at: new Date().toISOString(),
      http_status: 200,
      error_code: null,
      error_message: null,
      request_id: null,
      account_status: 'active',
      superseded_by: null,
    };
    await redis.xadd(keys.events, '*', EVENT_FIELD, JSON.stringify(event));

    expect((await readHolds(redis, keys, A)).holds).toEqual([
      { id: 'window:w1:o1', source: 'window', ref: 'w1:o1', reason: 'r', actor: null, at: 'x' },
    ]);
    expect((await readBindings(redis, keys, [KEY]))[0]?.source).toBe('window');
    const [read] = await readRecentEvents(redis, keys);
    // Written before actors existed: read with `actor: null`.
    expect(read).toMatchObject({ source: 'window', account_id: A, actor: null });
    expect(read).not.toHaveProperty('provider_id');
    expect((await readBindings(redis, keys, [KEY]))[0]?.accountId).toBe(A);
    // A job an older version queued names its hold as before.
    expect(intentHoldId({ source: 'maintenance' as 'window', sourceRef: 'w1:o1' })).toBe(
      'window:w1:o1',
    );
  });
});

describe('data stored with the old account word `provider_id`', () => {
  it('a window.ended and a window.failed event read back with account_id(s)', async () => {
    const { redis, keys } = ctx.current();
    const at = new Date().toISOString();
    const base = { window_id: 'w1', occurrence: 'o1', at };
    await redis.xadd(
      keys.events,
      '*',
      EVENT_FIELD,
      JSON.stringify({ type: 'window.failed', ...base, step: 'end', provider_ids: [A], why: 'x' }),
    );
    await redis.xadd(
      keys.events,
      '*',
      EVENT_FIELD,
      JSON.stringify({
        type: 'window.ended',
        ...base,
        activated: 0,
        left_off: [],
        still_held: [{ provider_id: A, held_by: ['manual'] }],
      }),
    );
    const events = await readRecentEvents(redis, keys);
    const json = JSON.stringify(events);
    expect(json).not.toContain('provider_id');
    expect(events.find((e) => e.type === 'window.failed')).toMatchObject({ account_ids: [A] });
    expect(events.find((e) => e.type === 'window.ended')).toMatchObject({
      still_held: [{ account_id: A, held_by: ['manual'] }],
    });
  });
});
