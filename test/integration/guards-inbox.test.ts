/**
 * The guards of the webhook inbox (store/webhook-inbox-*.ts), one test per promise (issue 19
 * §4): the caps (backlog, entries, bytes, each to the exact unit), trimming (processed entries
 * only, never past the oldest unprocessed, MINID exact, at most 1,000 a call), the byte counter,
 * settling, claiming and the dead letters' cap. Each fails with its guard broken (the mutations
 * of test/guards/guards.ts, `npm run test:guards`). Real Redis, a prefix per test.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { RedisClient as Redis } from '../../src/redis/connect.js';
import type { Keys } from '../../src/store/keys.js';
import { appendToInbox, type AppendOptions } from '../../src/store/webhook-inbox-append.js';
import { DEAD_LETTERS_KEPT, deadLetterInbox } from '../../src/store/webhook-inbox-dead.js';
import { ackInbox, readInbox } from '../../src/store/webhook-inbox-read.js';
import {
  INBOX_GROUP,
  readInboxState,
  settleInbox,
  TRIM_MAX_PER_CALL,
} from '../../src/store/webhook-inbox-trim.js';
import { redisPerTest } from '../support/context.js';

const fixture = redisPerTest();
let redis: Redis;
let keys: Keys;
beforeEach(() => {
  ({ redis, keys } = fixture.current());
});

const TYPE = 'message.delivered';
const BODY = '{"n":1}';
/** Stored bytes of one entry (type + body). */
const SIZE = TYPE.length + BODY.length;
const ROOMY = { dedupeTtlS: 60, maxLen: 100, maxBytes: 100_000 };

let n = 0;
function append(options: Partial<AppendOptions> = {}, body = BODY) {
  return appendToInbox(
    redis,
    keys,
    { id: `evt_${++n}`, type: TYPE, body },
    { ...ROOMY, ...options },
  );
}

/** Append `count` entries (stored, checked). */
async function appendMany(count: number, options: Partial<AppendOptions> = {}): Promise<void> {
  for (let i = 0; i < count; i++) expect((await append(options)).stored).toBe(true);
}

/** Read up to `count` new entries as consumer `c` (pending until acknowledged). */
async function read(count: number, consumer = 'c') {
  return readInbox(redis, keys, { group: INBOX_GROUP, consumer, count });
}

async function ids(): Promise<string[]> {
  const raw = (await redis.xrange(keys.webhookInbox, '-', '+')) as [string, string[]][];
  return raw.map(([id]) => id);
}

async function counter(): Promise<string | null> {
  return redis.get(keys.webhookInboxBytes);
}

/**
 * `count` entries written as an older version (or an operator) would: XADD in one script, the
 * byte counter set to match unless `counted` is false; no group.
 */
async function rawEntries(count: number, counted = true): Promise<void> {
  await redis.eval(
    `for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'type', ARGV[2], 'body', ARGV[3]) end
     if ARGV[4] == '1' then redis.call('SET', KEYS[2], tonumber(ARGV[1]) * (#ARGV[2] + #ARGV[3])) end`,
    2,
    keys.webhookInbox,
    keys.webhookInboxBytes,
    count,
    TYPE,
    BODY,
    counted ? '1' : '0',
  );
}

/** The group, as if it had read and acknowledged every entry stored so far. */
async function allProcessed(): Promise<void> {
  await redis.xgroup('CREATE', keys.webhookInbox, INBOX_GROUP, '$');
}

describe('inbox caps', () => {
  it('refuses at backlogMax unprocessed entries, not one before', async () => {
    await appendMany(3, { backlogMax: 3 });
    expect(await append({ backlogMax: 3 })).toEqual({
      stored: false,
      duplicate: false,
      cap: 'backlog',
      backlog: 3,
      entries: 3,
      bytes: 3 * SIZE,
    });
    expect((await ids()).length).toBe(3);
  });

  it('counts pending entries in the backlog', async () => {
    await appendMany(3, { backlogMax: 3 });
    expect(await read(3)).toHaveLength(3);
    expect(await append({ backlogMax: 3 })).toMatchObject({ stored: false, cap: 'backlog' });
    expect(await settleInbox(redis, keys, INBOX_GROUP, [], ROOMY)).toMatchObject({ backlog: 3 });
    expect(await readInboxState(redis, keys)).toEqual({ backlog: 3, entries: 3, bytes: 3 * SIZE });
  });

  it('counts the bytes of type and body; one byte over the byte cap is refused', async () => {
    const caps = { maxBytes: 2 * SIZE - 1 };
    expect((await append(caps)).stored).toBe(true);
    expect(await counter()).toBe(String(SIZE));
    expect(await append(caps)).toMatchObject({ stored: false, cap: 'bytes', bytes: SIZE });
    expect((await ids()).length).toBe(1);
  });

  it('stores a body that fits the bytes exactly, after trimming a processed one', async () => {
    const caps = { maxLen: 2, maxBytes: 2 * SIZE };
    await appendMany(2, caps);
    const got = await read(2);
    await ackInbox(
      redis,
      keys,
      INBOX_GROUP,
      got.map((e) => e.id),
    );
    expect((await append(caps)).stored).toBe(true);
    expect(await ids()).toHaveLength(2);
    expect(await counter()).toBe(String(2 * SIZE));
  });

  it('refuses at maxLen when processed entries sit behind a pending one', async () => {
    const caps = { maxLen: 3, backlogMax: 3 };
    await appendMany(3, caps);
    const [a, b, c] = await read(3);
    expect(await ackInbox(redis, keys, INBOX_GROUP, [b?.id ?? '', c?.id ?? ''])).toBe(2);
    expect(await append(caps)).toMatchObject({
      stored: false,
      cap: 'entries',
      backlog: 1,
      entries: 3,
    });
    expect(await ids()).toEqual([a?.id, b?.id, c?.id]);
  });

  it('at maxLen, trims the oldest processed entry to make room, never holding more', async () => {
    const caps = { maxLen: 3 };
    await appendMany(3, caps);
    const got = await read(3);
    await ackInbox(
      redis,
      keys,
      INBOX_GROUP,
      got.map((e) => e.id),
    );
    const r = await append(caps);
    expect(r.stored).toBe(true);
    expect(await ids()).toEqual([got[1]?.id, got[2]?.id, r.stored ? r.id : '']);
    expect(await counter()).toBe(String(3 * SIZE));
  });

  it('a trim to make room takes 1 in 1,000 of maxLen more, at most 100', async () => {
    // 101,000 processed entries at maxLen 101,000: room for the new one and 100 more.
    const maxLen = 101_000;
    await rawEntries(maxLen);
    await allProcessed();
    expect((await append({ maxLen, backlogMax: maxLen, maxBytes: 1e12 })).stored).toBe(true);
    expect(await redis.xlen(keys.webhookInbox)).toBe(maxLen - 100);
  });

  it('an empty inbox holds no bytes, whatever a stale counter says', async () => {
    await redis.set(keys.webhookInboxBytes, 500);
    expect((await append()).stored).toBe(true);
    expect(await counter()).toBe(String(SIZE));
  });
});

describe('inbox without a group (an older version, or entries stored by hand)', () => {
  it('the append makes the group from the first entry: none is processed, none trimmed', async () => {
    await rawEntries(3);
    const caps = { maxLen: 3, backlogMax: 3 };
    expect(await append(caps)).toMatchObject({ stored: false, cap: 'backlog', backlog: 3 });
    expect(await append(caps)).toMatchObject({ stored: false, cap: 'backlog', backlog: 3 });
    expect(await redis.xlen(keys.webhookInbox)).toBe(3);
    expect(await read(10)).toHaveLength(3);
  });

  it('a reader that comes first reads them from the start; until then all are backlog', async () => {
    await rawEntries(2);
    expect(await readInboxState(redis, keys)).toMatchObject({ backlog: 2, entries: 2 });
    expect(await read(10)).toHaveLength(2);
  });
});

describe('inbox trimming and settling', () => {
  it('never trims an entry never delivered, even over the caps', async () => {
    await appendMany(3);
    const [a] = await read(1);
    const state = await settleInbox(redis, keys, INBOX_GROUP, [a?.id ?? ''], {
      maxLen: 0,
      maxBytes: 0,
    });
    expect(state).toEqual({ acked: 1, backlog: 2, entries: 2, bytes: 2 * SIZE });
    expect(await ids()).not.toContain(a?.id);
  });

  it('never trims the oldest pending entry, nor the processed ones behind it', async () => {
    await appendMany(3);
    const got = await read(3);
    await ackInbox(redis, keys, INBOX_GROUP, [got[1]?.id ?? '', got[2]?.id ?? '']);
    const state = await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 0, maxBytes: 0 });
    expect(state).toEqual({ acked: 0, backlog: 1, entries: 3, bytes: 3 * SIZE });
    expect(await ids()).toEqual(got.map((e) => e.id));
  });

  it('trims every processed entry, the last delivered one included, and their bytes', async () => {
    await appendMany(3);
    const got = await read(3);
    const state = await settleInbox(
      redis,
      keys,
      INBOX_GROUP,
      got.map((e) => e.id),
      { maxLen: 0, maxBytes: 0 },
    );
    expect(state).toEqual({ acked: 3, backlog: 0, entries: 0, bytes: 0 });
    expect(await ids()).toEqual([]);
    expect(await counter()).toBeNull();
  });

  it('keeps the processed history up to the caps, exactly', async () => {
    await appendMany(4);
    const got = await read(4);
    await ackInbox(
      redis,
      keys,
      INBOX_GROUP,
      got.map((e) => e.id),
    );
    // At the entry cap, then at the byte cap: nothing to trim.
    await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 4, maxBytes: 100_000 });
    await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 100, maxBytes: 4 * SIZE });
    expect(await ids()).toHaveLength(4);
    // One over the byte cap (read in a batch of several): the oldest goes, only it.
    expect(
      await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 100, maxBytes: 3 * SIZE }),
    ).toEqual({ acked: 0, backlog: 0, entries: 3, bytes: 3 * SIZE });
    // One over the entry cap: the next oldest goes.
    expect(
      await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 2, maxBytes: 100_000 }),
    ).toEqual({ acked: 0, backlog: 0, entries: 2, bytes: 2 * SIZE });
    expect(await ids()).toEqual([got[2]?.id, got[3]?.id]);
    expect(await counter()).toBe(String(2 * SIZE));
  });

  it('a trim removes at most 1,000 entries a call', async () => {
    const count = TRIM_MAX_PER_CALL + 100;
    await rawEntries(count);
    await allProcessed();
    // 3 for the entry cap, then 4 at a time for the byte cap: 1,000 is inside a batch.
    const state = await settleInbox(redis, keys, INBOX_GROUP, [], {
      maxLen: count - 3,
      maxBytes: 0,
    });
    expect(state).toMatchObject({ entries: 100, bytes: 100 * SIZE });
    expect(await redis.xlen(keys.webhookInbox)).toBe(100);
  });

  it('the byte counter never goes below zero (entries stored before it existed)', async () => {
    await rawEntries(3, false);
    await allProcessed();
    const state = await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 1, maxBytes: 1e9 });
    expect(state).toEqual({ acked: 0, backlog: 0, entries: 1, bytes: 0 });
    expect(await counter()).toBeNull();
  });

  it('an empty stream holds no bytes, whatever a stale counter says', async () => {
    await redis.xgroup('CREATE', keys.webhookInbox, INBOX_GROUP, '0', 'MKSTREAM');
    await redis.set(keys.webhookInboxBytes, 500);
    expect(await settleInbox(redis, keys, INBOX_GROUP, [], ROOMY)).toEqual({
      acked: 0,
      backlog: 0,
      entries: 0,
      bytes: 0,
    });
    expect(await counter()).toBeNull();
  });

  it("another group's progress does not make entries processed", async () => {
    await appendMany(3);
    // Groups sorted around the breaker's, both past every entry.
    await redis.xgroup('CREATE', keys.webhookInbox, 'audit', '$');
    await redis.xgroup('CREATE', keys.webhookInbox, 'zulu', '$');
    expect(await readInboxState(redis, keys)).toMatchObject({ backlog: 3 });
    const state = await settleInbox(redis, keys, INBOX_GROUP, [], { maxLen: 0, maxBytes: 0 });
    expect(state).toMatchObject({ backlog: 3, entries: 3 });
  });

  it('settles a single id: acknowledged and counted', async () => {
    await appendMany(2);
    const [a] = await read(1);
    expect(await settleInbox(redis, keys, INBOX_GROUP, [a?.id ?? ''], ROOMY)).toEqual({
      acked: 1,
      backlog: 1,
      entries: 2,
      bytes: 2 * SIZE,
    });
  });

  it('after an entry deleted by hand (XDEL), every entry counts as unprocessed', async () => {
    await appendMany(3);
    const all = await ids();
    await redis.xdel(keys.webhookInbox, all[1] ?? '');
    expect(await settleInbox(redis, keys, INBOX_GROUP, [], ROOMY)).toMatchObject({ backlog: 2 });
    expect(await readInboxState(redis, keys)).toMatchObject({ backlog: 2, entries: 2 });
  });
});

describe('inbox reading and claiming', () => {
  it('claimed entries fill the count, with their deliveries; new ones only up to it', async () => {
    await appendMany(3);
    const first = await read(2, 'c1');
    const again = await readInbox(redis, keys, {
      group: INBOX_GROUP,
      consumer: 'c2',
      count: 2,
      claimIdleMs: 0,
    });
    expect(again.map((e) => [e.id, e.claimed, e.deliveries])).toEqual(
      first.map((e) => [e.id, true, 2]),
    );
  });

  it('an entry another reader holds is not claimed before claimIdleMs (30 s by default)', async () => {
    await appendMany(2);
    const [a] = await read(1, 'c1');
    const got = await readInbox(redis, keys, { group: INBOX_GROUP, consumer: 'c2', count: 10 });
    expect(got.map((e) => e.id)).not.toContain(a?.id);
    expect(got).toHaveLength(1);
  });

  it('acknowledging nothing is fine', async () => {
    await appendMany(1);
    expect(await ackInbox(redis, keys, INBOX_GROUP, [])).toBe(0);
  });
});

describe('inbox dead letters', () => {
  it(`keeps about the latest ${DEAD_LETTERS_KEPT} dead letters`, async () => {
    const count = DEAD_LETTERS_KEPT + 300;
    await rawEntries(count);
    const got = await read(count);
    expect(got).toHaveLength(count);
    const moved = await Promise.all(
      got.map((e) => deadLetterInbox(redis, keys, INBOX_GROUP, e, 'boom')),
    );
    expect(moved.every(Boolean)).toBe(true);
    const kept = await redis.xlen(keys.webhookDead);
    expect(kept).toBeGreaterThanOrEqual(DEAD_LETTERS_KEPT);
    expect(kept).toBeLessThan(count);
  });
});
