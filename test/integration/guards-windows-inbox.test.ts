/**
 * The guards of store/window-occurrence.ts and store/webhook-inbox-*.ts, one test per promise
 * (issue 19 §4): each fails with its guard broken (the mutations of test/guards/guards.ts,
 * `npm run test:guards`). Real Redis, a prefix per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import { readBindings } from '../../src/store/binding.js';
import { claimKeys } from '../../src/store/claim-keys.js';
import { seenState, type HoldInput } from '../../src/store/hold-record.js';
import { readHolds, releaseHold, takeHold } from '../../src/store/holds.js';
import type { Keys } from '../../src/store/keys.js';
import { appendToInbox } from '../../src/store/webhook-inbox-append.js';
import { deadLetterInbox, readDeadLetters } from '../../src/store/webhook-inbox-dead.js';
import { ackInbox, readInbox } from '../../src/store/webhook-inbox-read.js';
import { INBOX_GROUP } from '../../src/store/webhook-inbox-trim.js';
import { holdForOccurrence, releaseForOccurrence } from '../../src/store/window-holds.js';
import {
  beginOccurrence,
  markEnded,
  markStarted,
  readOccurrence,
  skipOccurrence,
  type OccurrenceRef,
} from '../../src/store/window-occurrence.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const A = 'dprov_w1';
const B = 'dprov_w2';
const C = 'dprov_w3';
const D = 'dprov_w4';
const ref: OccurrenceRef = { windowId: 'w1', occurrence: 'o1' };
const HOLD: HoldInput = { id: 'window:w1:o1', source: 'manual', reason: 'guard test' };
const ACTIVATION: [string, string] = ['window:w1:o1:', ':end'];
const times = { startsMs: 1_000_000, endsMs: 2_000_000 };

/**
 * An occurrence started with A (seen active), B (seen inactive), C (missing: not held) and D
 * (unreadable: held, base unknown).
 */
async function started(): Promise<void> {
  expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
  expect(
    await holdForOccurrence(
      redis,
      keys,
      ref,
      [
        { accountId: A, read: 'seen', seen: seenState('active') },
        { accountId: B, read: 'seen', seen: seenState('inactive') },
        { accountId: C, read: 'missing' },
        { accountId: D, read: 'unreadable' },
      ],
      HOLD,
    ),
  ).toEqual(['switch_off', 'already_off', 'missing', 'switch_off']);
  expect(await markStarted(redis, keys, ref, ['{}'], 100)).toBe(true);
}

describe('window occurrence guards', () => {
  it('begins once: a second begin answers the state and changes nothing', async () => {
    expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
    expect(await markStarted(redis, keys, ref, ['{}'], 100)).toBe(true);
    expect(await beginOccurrence(redis, keys, { ...ref, startsMs: 5, endsMs: 6 })).toBe('started');
    expect((await readOccurrence(redis, keys, ref))?.starts_at).toBe(
      new Date(times.startsMs).toISOString(),
    );
  });

  it('skips only an occurrence that never began, with one event', async () => {
    expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
    expect(await skipOccurrence(redis, keys, { ...ref, ...times }, '{}', 100)).toBe(false);
    expect((await readOccurrence(redis, keys, ref))?.state).toBe('starting');
    const other = { windowId: 'w1', occurrence: 'o2' };
    expect(await skipOccurrence(redis, keys, { ...other, ...times }, '{}', 100)).toBe(true);
    expect(await skipOccurrence(redis, keys, { ...other, ...times }, '{}', 100)).toBe(false);
    expect(await redis.xlen(keys.events)).toBe(1);
  });

  it('holds only while starting, and the first decision per account wins', async () => {
    expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
    const first = await holdForOccurrence(
      redis,
      keys,
      ref,
      [{ accountId: A, read: 'seen', seen: seenState('active') }],
      HOLD,
    );
    // Run again after a crash with another read: the same decision.
    const again = await holdForOccurrence(
      redis,
      keys,
      ref,
      [{ accountId: A, read: 'missing' }],
      HOLD,
    );
    expect(again).toEqual(first);
    expect(await markStarted(redis, keys, ref, ['{}'], 100)).toBe(true);
    expect(
      await holdForOccurrence(redis, keys, ref, [{ accountId: B, read: 'missing' }], HOLD),
    ).toBeUndefined();
    expect((await readOccurrence(redis, keys, ref))?.start).toEqual({ [A]: 'switch_off' });
  });

  it('moves state only from the state named, with its events once', async () => {
    expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
    expect(await markEnded(redis, keys, ref, ['{}'], 100, false)).toBe(false);
    expect(await markStarted(redis, keys, ref, ['{}'], 100)).toBe(true);
    expect(await markStarted(redis, keys, ref, ['{}'], 100)).toBe(false);
    expect(await markEnded(redis, keys, ref, ['{}', '{}'], 100, true)).toBe(true);
    expect(await redis.xlen(keys.events)).toBe(3);
    expect(await readOccurrence(redis, keys, ref)).toMatchObject({
      state: 'ended',
      cancelled: true,
    });
  });

  it('a plain end is not marked cancelled', async () => {
    await started();
    expect(await markEnded(redis, keys, ref, ['{}'], 100, false)).toBe(true);
    expect((await readOccurrence(redis, keys, ref))?.cancelled).toBe(false);
  });

  it('the end decides once per account: run again, the same decisions and one activation', async () => {
    await started();
    const first = await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION);
    expect(first).toEqual(
      new Map([
        [A, { do: 'reactivate' }],
        [B, { do: 'off' }],
        [D, { do: 'unknown' }],
      ]),
    );
    const key = `${ACTIVATION[0]}${A}${ACTIVATION[1]}`;
    const bound = await readBindings(redis, keys, [key]);
    expect(bound[0]?.state).toBe('queued');
    // A step run again after a crash (before the occurrence moved to ended) decides nothing anew.
    expect(await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION)).toEqual(first);
    expect(await readBindings(redis, keys, [key])).toEqual(bound);
    expect((await readOccurrence(redis, keys, ref))?.end).toEqual(Object.fromEntries(first ?? []));
  });

  it('the end releases only while started', async () => {
    expect(await beginOccurrence(redis, keys, { ...ref, ...times })).toBe('starting');
    await holdForOccurrence(
      redis,
      keys,
      ref,
      [{ accountId: A, read: 'seen', seen: seenState('active') }],
      HOLD,
    );
    expect(await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION)).toBeUndefined();
    expect((await readHolds(redis, keys, A)).holds.map((h) => h.id)).toEqual([HOLD.id]);
  });

  it('an account another hold keeps off is held, and its activation is not bound', async () => {
    await started();
    await takeHold(redis, keys, A, { id: 'manual', source: 'manual' });
    const end = await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION);
    expect(end?.get(A)).toEqual({ do: 'held', heldBy: ['manual'] });
    const key = `${ACTIVATION[0]}${A}${ACTIVATION[1]}`;
    expect(await readBindings(redis, keys, [key])).toEqual([undefined]);
  });

  it('an account whose hold went meanwhile is gone, and nothing is bound for it', async () => {
    await started();
    await releaseHold(redis, keys, A, HOLD.id);
    const end = await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION);
    expect(end?.get(A)).toEqual({ do: 'gone' });
    const key = `${ACTIVATION[0]}${A}${ACTIVATION[1]}`;
    expect(await readBindings(redis, keys, [key])).toEqual([undefined]);
  });

  it('an activation key bound to another intent is a conflict, not a reactivation', async () => {
    await started();
    const key = `${ACTIVATION[0]}${A}${ACTIVATION[1]}`;
    const other = await claimKeys(redis, keys, [
      {
        key,
        fingerprint: `deactivate ${A} by manual`,
        action: 'deactivate',
        accountId: A,
        source: 'manual',
      },
    ]);
    expect(other.ok).toBe(true);
    const end = await releaseForOccurrence(redis, keys, ref, HOLD.id, ACTIVATION);
    expect(end?.get(A)).toEqual({ do: 'conflict' });
    expect((await readBindings(redis, keys, [key]))[0]?.action).toBe('deactivate');
  });
});

const TYPE = 'message.delivered';
const CAPS = { dedupeTtlS: 60, backlogMax: 100, maxLen: 100, maxBytes: 100_000 };

describe('webhook inbox guards', () => {
  it('dead-letters an entry only while it is still pending', async () => {
    await appendToInbox(redis, keys, { id: 'evt_1', type: TYPE, body: '{"n":1}' }, CAPS);
    await appendToInbox(redis, keys, { id: 'evt_2', type: TYPE, body: '{"n":2}' }, CAPS);
    const read = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c', count: 2 });
    const [one, two] = read;
    if (!one || !two) throw new Error('expected two entries');
    // Another reader processed the first meanwhile.
    expect(await ackInbox(redis, keys, INBOX_GROUP, [one.id])).toBe(1);
    expect(await deadLetterInbox(redis, keys, INBOX_GROUP, one, 'late')).toBe(false);
    expect(await deadLetterInbox(redis, keys, INBOX_GROUP, two, 'boom')).toBe(true);
    const dead = await readDeadLetters(redis, keys);
    expect(dead.map((d) => [d.inbox_id, d.error])).toEqual([[two.id, 'boom']]);
  });

  it('an event id seen before is a duplicate, stored once', async () => {
    const first = await appendToInbox(redis, keys, { id: 'evt_1', type: TYPE, body: '{}' }, CAPS);
    const again = await appendToInbox(redis, keys, { id: 'evt_1', type: TYPE, body: '{}' }, CAPS);
    expect(first.stored).toBe(true);
    expect(again).toMatchObject({ stored: false, duplicate: true });
    expect(await redis.xlen(keys.webhookInbox)).toBe(1);
  });
});
