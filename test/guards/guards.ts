/**
 * The guard list (issue 19 §4): every guard of the Lua scripts in src/store/*.ts and every
 * branch of the retry policy (src/worker/policy.ts), each with the change that breaks it and the
 * tests that must then fail. `npm run test:guards` (scripts/test-guards.ts) checks each entry in
 * a temporary copy of the repository; `--list` prints them, `--only <id>` runs one.
 *
 * Keep it true: a change to a guard's text makes its entry stale (the script says so); a new
 * guard gets an entry and a test that fails under its mutation.
 *
 * Not in the list yet (issue 19 §4): nothing known. The by-line sweep of the Lua conditions and
 * defaults of src/store/*.ts (the `luaSweep` entries at the end) gave each one an entry or a
 * line below.
 */
import type { Guard } from './guard.js';

// Left out as equivalent mutants (no behaviour can tell them apart), checked by hand:
// - hold-lua.ts `goes = released == 1 and before == 'active'` -> `goes = before == 'active'`:
//   `before` is only set when `released == 1`.
// - hold-lua.ts `if released == 1 then` (the release) -> `if true then`: a hold that is not there
//   leaves either other holds (HLEN above the meta fields) or no record at all (DEL and ZREM of
//   nothing), and `releaseResult` reads `released` first.
// - claim-keys.ts `if fresh > 0 then seq = ...`: INCRBY 0 changes nothing.
// - known-state.ts `if not newestKey then return false end`: `sdxTarget(nil)` is false, and an
//   account that never had an intent has no lease.
// - webhook-inbox-append.ts, the fast path `if len < backlog_max and len < max_len and bytes +
//   size <= max_bytes`, narrowed (`<` for `<=`, `len < backlog_max - 1`, ...): the slow path
//   then answers the same (stored), having read the group; at most it trims up to the slack's
//   processed entries earlier, which no promise forbids. Widened, each is in the list.
// - webhook-inbox-append.ts, the fast path's `len < max_len` -> `len <= max_len`: config.ts
//   keeps WEBHOOK_INBOX_BACKLOG_MAX <= WEBHOOK_INBOX_MAXLEN, so `len < backlog_max` implies it.
// - webhook-inbox-append.ts `redis.pcall('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM')`
//   (on an empty inbox) dropped, or `'$'`: the stream is empty, so `$` is before any entry to
//   come, and without it the slow path and `readInbox` make the group at `0` the same way.
// - webhook-inbox-trim.ts `if type(groups) ~= 'table' or groups.err then return nil end`:
//   inbox_state runs only on a stream that exists, where XINFO GROUPS answers a table.
// - webhook-inbox-trim.ts `if p[1] then first_pending = ...`: `pending > 0` means XPENDING
//   answers an entry.
// - webhook-inbox-trim.ts `while over() and removed < TRIM_MAX_PER_CALL` -> `while over()`: the
//   check inside the batch (listed) stops at the same count.
// - webhook-inbox-trim.ts `want` (how many entries an XRANGE batch takes): the size of the
//   batches only; the loop goes on batch after batch either way.
// - webhook-inbox-trim.ts `if bytes == 0 then DEL else SET`: a counter of 0 and no counter read
//   the same everywhere (`GET` or 0).
// - webhook-inbox-trim.ts (settle) `if redis.call('EXISTS', inbox) == 0 then return ...`:
//   inbox_state on a missing stream answers no entries and no group, nothing to trim: the same
//   reply (it also deletes a stale counter, which the next append does anyway).
// Left out, not equivalent: webhook-inbox-trim.ts `if #batch == 0 then break end` dropped spins
// in Redis's script (every entry trimmed, a stale counter still over maxBytes): it would block
// the Redis the tests share until a SCRIPT KILL.
// - breaker-reset.ts and breaker-tick.ts `or not sdxKeysHold(KP, {id})` (the key check without
//   its trip-id half, which is listed) and window-holds.ts's end
//   `if not sdxKeysHold(KP, todo) then return ...`: they release with mode `base`, which never
//   asks `sdxKnown`, so no binding but the declared activation's is read; an account's newest
//   intent or lease holder that moved after the read changes nothing they do (the orders,
//   leases and holds touched are declared).
// - batch-record.ts `if #firstIds > 0 then` -> `if true then`: with no first id every sliced
//   loop is empty; `if #fresh > 0 then` -> `if true then`: HINCRBY by 0 of a `total` set at the
//   batch's open changes nothing.
// - rate-budget.ts `wms > 0 and` of the pacing: with `wms` 0, `wend - now <= 0` is a window that
//   ended, where `gate` is already false; `math.max(allowance, 1)` of the paced wait: past
//   `ours >= allowance` the allowance is at least 1; `math.max(0, used - ours)` -> `used - ours`:
//   a negative `others` never passes `others > seen` (seen is never below 0).
// - retention.ts `expected == '' or`: an account without an order declares the binding of an
//   empty key, never bound (no state); the batches' `done == '1' and`: a pass's open clears
//   `finished_at` in the same step that sets `enqueue_done` to 0, so a finished batch always has
//   '1'; `tonumber(oldest[2]) < limit` -> `<=`: the same limit either way.
// - breaker-trip.ts `volume > 0 and` / `delivered > 0 and` (the rules) dropped: the minimum
//   volumes are at least 1 (config/breaker.ts, producers/breaker/rules.ts), so `volume >= min`
//   already fails on 0; and counts only grow (HINCRBY 1), so `hard` is 0 with `volume` (0/0 is
//   NaN, which compares false). Off by one (`> 1`), each is in the list.
// - breaker-trip.ts `tonumber(HGET cooldown_s) or cooldown` and breaker-tick.ts's event
//   `h[5] or '0'`: a half-open breaker always has `cooldown_s` (only the tick makes one, from an
//   open one with `open_until`, which the trip sets together with `cooldown_s`; the tick keeps it).
// - breaker-tick.ts's last `else redis.call('ZREM', KEYS[5], id)` (a breaker neither open with a
//   cooldown nor half-open): every script that leaves a breaker so (a trip without cooldown, a
//   reset, a close) removes it from the schedule in the same step, so there is nothing to remove.
// - rate-budget.ts's defaults `ours or '0'`, `others or '0'`, `used or '0'`, `seen or '0'` and
//   the HGETs of `others_window` / `others` `or '0'`: each field is written in the same HSET as
//   `window_end` (an answer's new window, takeCall's rollover), and `limit` only after it;
//   takeCall reads them only with `limit` and `window_end` there, observeWindow only with
//   `window_end` there (else it sets the locals itself). (`window_ms` is learnt later: listed.)
// - hold-lua.ts `HGET before or 'unknown'` (take and release): `before` is written in the HSET
//   that makes the hold record and goes only with the whole record (DEL).
// - webhook-inbox-append.ts and webhook-inbox-trim.ts `tonumber(GET bytes or '0') or 0`, either
//   half alone: `tonumber(nil)` is nil in Redis's Lua, so `or 0` answers what `or '0'` would;
//   and the counter is only ever written by INCRBY / SET of a number.
// - batch-record.ts `(tonumber(b[2]) or 0)` (total): `total` is written in the HSET that makes
//   the batch, and `b[1] == '1'` (enqueue_done, written later) is checked first.
// - record-outcome.ts `ARGV[12] == '1' and` (the batch close) dropped: without a batch, KEYS[9]
//   is `batchAccounts('')`, never written (a batch id is 1..64 characters, BATCH_ID_RULE), so
//   its HGET answers nil, never ''. The other half is in the list.
// - known-state.ts `if not part then return 'unknown' end` dropped: `pcall(cjson.decode,
//   false)` fails, and the next check answers 'unknown' the same. `if shown and` of sdxObserve
//   dropped: `updated_at_ms` is written with `account` in every HSET (sdxObserve,
//   record-outcome), and the check runs only when `account` is there.
// - webhook-inbox-trim.ts `if lag and g['entries-read'] then` (the repair's SETID), either half
//   dropped: it runs only for a group that has read up to the stream's last entry, where Redis's
//   XINFO (t_stream.c) always knows the lag (0 at the stream's last id, so not here) and a lag
//   above 0 is computed from a known entries-read. Tried: an XDEL, then every entry read and
//   acknowledged: the lag is 0, the mutant `if g['entries-read'] then` survives.
// - script.ts `elseif c == 'TIME' then from, to = 0, -1`: TIME has no argument, and a nil key
//   (`a[1]`) is skipped by the check.

const POLICY = 'src/worker/policy.ts';
const POLICY_TESTS = ['test/unit/policy-guards.test.ts'];
const RECORD = 'src/store/record-outcome.ts';
const RECORD_TESTS = ['test/integration/guards-record.test.ts'];

const policy: Guard[] = [
  {
    id: 'policy-ok-mismatch',
    file: POLICY,
    guard: 'if (answer.answeredId !== null && answer.answeredId !== answer.accountId) {',
    mutation: 'if (false) {',
    why: 'a 2xx about another account is a failure (response_mismatch), not a success',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-ok-null-account',
    file: POLICY,
    guard: 'answer.answeredId !== null && answer.answeredId',
    mutation: 'answer.answeredId',
    why: 'a 2xx that names no account is still a success',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-ok-succeed',
    file: POLICY,
    guard: "return { do: 'succeed' };",
    mutation: "return { do: 'verify', why: 'mutant' };",
    why: 'a 2xx about the account asked is a success',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-lock-lost-abandon',
    file: POLICY,
    guard: "answer.why === 'lock_lost'",
    mutation: "answer.why !== 'lock_lost'",
    why: 'a run that lost its lock records nothing (abandon); a shutdown puts the job back',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-shutdown-keeps-lease',
    file: POLICY,
    guard: "{ do: 'put-back', wait: 'shutdown', delayMs: 0, releaseLease: false }",
    mutation: "{ do: 'put-back', wait: 'shutdown', delayMs: 0, releaseLease: true }",
    why: 'a shutdown put-back keeps the account lease (the call may still be running at the API)',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-unexpected-final',
    file: POLICY,
    guard:
      "return final\n        ? { do: 'fail', code: 'worker_error', why: answer.error.message }",
    mutation:
      "return !final\n        ? { do: 'fail', code: 'worker_error', why: answer.error.message }",
    why: 'an unexpected error is retried, and fails worker_error only on the last attempt',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-rate-limit-max-waits',
    file: POLICY,
    guard: 'if (n >= settings.rateLimitMaxWaits) {',
    mutation: 'if (n > settings.rateLimitMaxWaits) {',
    why: 'a 429 fails once RATE_LIMIT_MAX_WAITS put-backs ran out',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-rate-limit-pause',
    file: POLICY,
    guard: 'pauseQueueMs: rateLimitPause(err.retryAfterMs, settings.rateLimitMaxWaitMs),',
    mutation: 'pauseQueueMs: 0,',
    why: "a 429 pauses the queue for the API's Retry-After",
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-rate-limit-releases-lease',
    file: POLICY,
    guard: '// A 429 is answered before anything runs.\n        releaseLease: true,',
    mutation: '// A 429 is answered before anything runs.\n        releaseLease: false,',
    why: 'a 429 gives the account lease back (the call did not run)',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-auth-pause',
    file: POLICY,
    guard: 'pauseQueueMs: settings.authRetryMs,',
    mutation: 'pauseQueueMs: 0,',
    why: 'a 401/403 pauses the whole queue AUTH_RETRY_MS',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-auth-releases-lease',
    file: POLICY,
    guard: 'pauseQueueMs: settings.authRetryMs,\n        releaseLease: true,',
    mutation: 'pauseQueueMs: settings.authRetryMs,\n        releaseLease: false,',
    why: 'a 401/403 gives the account lease back (the call did not run)',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-in-flight-max-waits',
    file: POLICY,
    guard: 'if (n >= settings.inFlightMaxWaits) {',
    mutation: 'if (n > settings.inFlightMaxWaits) {',
    why: 'an in-flight call is verified once INFLIGHT_MAX_WAITS put-backs ran out',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-in-flight-keeps-lease',
    file: POLICY,
    guard: '          random,\n        ),\n        releaseLease: false,',
    mutation: '          random,\n        ),\n        releaseLease: true,',
    why: 'an in-flight put-back keeps the account lease (our call is still running at the API)',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-conflict-verify',
    file: POLICY,
    guard: "if (err.code === 'conflict') return { do: 'verify', why: err.message };",
    mutation: '',
    why: 'a 409 conflict is read first: the account may already be where it was asked to be',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-permanent-fail',
    file: POLICY,
    guard: "      return { do: 'fail', why: err.message };",
    mutation: "      return { do: 'retry' };",
    why: 'any other permanent error fails at once',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-transient-final',
    file: POLICY,
    guard: "return final\n        ? { do: 'verify'",
    mutation: "return !final\n        ? { do: 'verify'",
    why: 'a 5xx or timeout is retried, and read first (verify) only on the last attempt',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-final-attempt',
    file: POLICY,
    guard: 'const final = counters.attempt >= settings.maxAttempts;',
    mutation: 'const final = counters.attempt > settings.maxAttempts;',
    why: 'the last attempt is MAX_ATTEMPTS itself',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-crashes-floor',
    file: POLICY,
    guard: 'return Math.max(0, starts - counters.attempt - waits);',
    mutation: 'return starts - counters.attempt - waits;',
    why: 'crashes so far are never negative',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-budget-watermark-off',
    file: POLICY,
    guard: 'lowWatermark <= 0 ||',
    mutation: '',
    why: 'a watermark of 0 switches the slow-down off: only a 429 pauses',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-budget-watermark',
    file: POLICY,
    guard: 'rateLimit.remaining > lowWatermark',
    mutation: 'rateLimit.remaining >= lowWatermark',
    why: 'the slow-down starts at the watermark itself',
    tests: POLICY_TESTS,
  },
  {
    id: 'policy-budget-after-reset',
    file: POLICY,
    guard: 'return untilReset > 0 ? Math.min(untilReset, capMs) : 0;',
    mutation: 'return Math.min(untilReset, capMs);',
    why: 'no pause once the window has reset; never longer than the cap',
    tests: POLICY_TESTS,
  },
];

const record: Guard[] = [
  {
    id: 'record-lost',
    file: RECORD,
    guard: "if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end",
    mutation: '',
    why: 'a run that lost its job lock never records',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-bind-only-missing',
    file: RECORD,
    guard: "if ARGV[16] ~= '' and redis.call('EXISTS', KEYS[2]) == 0 then",
    mutation: "if ARGV[16] ~= '' then",
    why: 'binding on record happens only for a key never bound; an existing binding is left alone',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-stale',
    file: RECORD,
    guard: "if not state or seq ~= ARGV[2] then return {'stale'} end",
    mutation: "if not state then return {'stale'} end",
    why: 'an outcome of another generation of the key is refused',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-terminal',
    file: RECORD,
    guard: "if state ~= 'queued' then return {'terminal', state} end",
    mutation: '',
    why: 'once an intent is terminal nothing changes it: never a second event',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-last-newest',
    file: RECORD,
    guard: 'if not lastSeq or tonumber(lastSeq) <= mine then',
    mutation: 'if true then',
    why: "an older intent's outcome does not replace the newer one's as the last action",
    tests: RECORD_TESTS,
  },
  {
    id: 'record-last-error-on-failure',
    file: RECORD,
    guard: "    if outcome == 'failed' then",
    mutation: '    if true then',
    why: 'only a failure sets last_error',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-account-on-success',
    file: RECORD,
    guard: "  if outcome == 'succeeded' then\n    local answered",
    mutation: '  if true then\n    local answered',
    why: "only a success writes the account's status",
    tests: RECORD_TESTS,
  },
  {
    id: 'record-equal-updated-at-older-intent',
    file: RECORD,
    guard: "(same and mine >= tonumber(statusSeq or '0'))",
    mutation: 'same',
    why: 'an equal updated_at from an older intent must not overwrite the status',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-equal-updated-at-newer-intent',
    file: RECORD,
    guard: 'local same = answered == shown or not answered',
    mutation: 'local same = false',
    why: 'an equal updated_at from a newer intent does overwrite the status',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-newer-answer',
    file: RECORD,
    guard: 'local newer = (not shown) or (answered and answered > shown)',
    mutation: 'local newer = (not shown)',
    why: 'a newer updated_at overwrites the status, even from an older intent',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-older-answer',
    file: RECORD,
    guard: "if newer or (same and mine >= tonumber(statusSeq or '0')) then",
    mutation: 'if true then',
    why: 'an older updated_at never overwrites the status, even from a newer intent',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-withdrawn-no-status',
    file: RECORD,
    guard: "if outcome ~= 'superseded' and outcome ~= 'cancelled' then",
    mutation: 'if true then',
    why: 'a cancelled or superseded intent is no action on the account: the status shows none',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-withdrawn-index-nx',
    file: RECORD,
    guard: "redis.call('ZADD', KEYS[4], 'NX', now, provider)",
    mutation: "redis.call('ZADD', KEYS[4], now, provider)",
    why: 'a withdrawn intent indexes the account without moving an entry that is there',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-releases-own-lease',
    file: RECORD,
    guard: "if redis.call('GET', KEYS[7]) == key then redis.call('DEL', KEYS[7]) end",
    mutation: "redis.call('DEL', KEYS[7])",
    why: 'an outcome releases only its own account lease',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-releases-lease',
    file: RECORD,
    guard: "if redis.call('GET', KEYS[7]) == key then",
    mutation: 'if false then',
    why: 'an outcome gives its account lease back',
    tests: RECORD_TESTS,
  },
  {
    id: 'record-not-found-hold',
    file: RECORD,
    guard: "if ARGV[19] ~= '' then",
    mutation: 'if false then',
    why: 'a deactivation answered 404 not_found lets go of the hold it was asked under',
    tests: RECORD_TESTS,
  },
];

const countWait: Guard[] = [
  {
    id: 'count-wait-lost',
    file: 'src/store/count-wait.ts',
    guard: "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end",
    mutation: '',
    why: 'a put-back of a run that lost its job changes nothing',
    tests: RECORD_TESTS,
  },
  {
    id: 'count-wait-release-own-lease',
    file: 'src/store/count-wait.ts',
    guard: "if ARGV[4] == '1' and redis.call('GET', KEYS[3]) == ARGV[3] then",
    mutation: "if ARGV[4] == '1' then",
    why: 'a put-back gives back only its own account lease',
    tests: RECORD_TESTS,
  },
  {
    id: 'count-wait-release-when-asked',
    file: 'src/store/count-wait.ts',
    guard: "if ARGV[4] == '1' and",
    mutation: 'if',
    why: 'a put-back keeps the lease unless the call certainly did not run',
    tests: RECORD_TESTS,
  },
];

const WINDOW = 'src/store/window-occurrence.ts';
const WINDOW_HOLDS = 'src/store/window-holds.ts';
const WINDOW_TESTS = ['test/integration/guards-windows-inbox.test.ts'];
const INBOX_APPEND = 'src/store/webhook-inbox-append.ts';
const INBOX_DEAD = 'src/store/webhook-inbox-dead.ts';
const INBOX_READ = 'src/store/webhook-inbox-read.ts';
const INBOX_TRIM = 'src/store/webhook-inbox-trim.ts';
const INBOX_TESTS = ['test/integration/guards-inbox.test.ts'];

const windowOccurrence: Guard[] = [
  {
    id: 'window-begin-once',
    file: WINDOW,
    guard: 'if state then return state end',
    mutation: '',
    why: 'an occurrence begins once: a second begin changes nothing',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-skip-once',
    file: WINDOW,
    guard: "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end",
    mutation: '',
    why: 'only an occurrence that never began is skipped, with one event',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-hold-while-starting',
    file: WINDOW_HOLDS,
    guard: "if redis.call('HGET', KEYS[1], 'state') ~= 'starting' then return false end",
    mutation: '',
    why: 'the start holds accounts only while the occurrence is starting',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-start-decides-once',
    file: WINDOW_HOLDS,
    guard: '  if not b then\n',
    mutation: '  if true then\n',
    why: 'the start decides once per target: run again after a crash, it decides the same',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-start-missing-not-held',
    file: WINDOW_HOLDS,
    guard: "if t[2] == 'missing' then",
    mutation: 'if false then',
    why: 'a target the API does not know is not held',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-start-need-off',
    file: WINDOW_HOLDS,
    guard: "if needOff then b = 'switch_off' else b = 'already_off' end",
    mutation: "b = 'switch_off'",
    why: 'a target known to be off (nothing of ours pending) is not switched off again',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-move-from-state',
    file: WINDOW,
    guard: "if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end",
    mutation: '',
    why: 'an occurrence moves only from the state named, its events going out once',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-cancelled-flag',
    file: WINDOW,
    guard: "if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'cancelled', '1') end",
    mutation: "redis.call('HSET', KEYS[1], 'cancelled', '1')",
    why: 'only an end asked early is marked cancelled',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-while-started',
    file: WINDOW_HOLDS,
    guard: "if redis.call('HGET', KEYS[1], 'state') ~= 'started' then return false end",
    mutation: '',
    why: 'the end releases only a started occurrence',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-decides-once',
    file: WINDOW_HOLDS,
    guard: "redis.call('HEXISTS', KEYS[1], 'e:' .. id) == 0",
    mutation: 'true',
    why: 'the end decides once per account: run again, it decides nothing anew',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-skips-missing',
    file: WINDOW_HOLDS,
    guard: "if redis.call('HGET', KEYS[1], f) ~= 'missing' and",
    mutation: 'if',
    why: 'the end has nothing to release for a target the start did not hold',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-gone',
    file: WINDOW_HOLDS,
    guard: '  if released == 1 then\n    if before then',
    mutation: '  if true then\n    if before then',
    why: 'an account whose hold went meanwhile is `gone`',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-held',
    file: WINDOW_HOLDS,
    guard: '    if before then\n',
    mutation: '    if true then\n',
    why: 'an account another hold keeps off is `held`, not switched back on',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-reactivate-not-conflict',
    file: WINDOW_HOLDS,
    guard: "if claimed and claimed ~= 'conflict' then",
    mutation: 'if claimed then',
    why: 'an activation key bound to another intent is a conflict, not a reactivation',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-conflict',
    file: WINDOW_HOLDS,
    guard: "elseif claimed == 'conflict' then decision = 'conflict'",
    mutation: '',
    why: 'the end says `conflict` when the activation key is bound to another intent',
    tests: WINDOW_TESTS,
  },
  {
    id: 'window-end-unknown',
    file: WINDOW_HOLDS,
    guard: "elseif before == 'unknown' then decision = 'unknown'",
    mutation: '',
    why: 'an account of unknown base stays off as `unknown` (not `off`) for an operator',
    tests: WINDOW_TESTS,
  },
];

const inbox: Guard[] = [
  {
    id: 'inbox-dead-letter-while-pending',
    file: INBOX_DEAD,
    guard: "if redis.call('XACK', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end",
    mutation: "redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])",
    why: 'an entry is dead-lettered only while still pending (not once another reader acknowledged it)',
    tests: WINDOW_TESTS,
  },
  {
    id: 'inbox-duplicate',
    file: INBOX_APPEND,
    guard: "if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end",
    mutation: '',
    why: 'a webhook event id seen before is stored once',
    tests: WINDOW_TESTS,
  },
  {
    id: 'inbox-fast-backlog',
    file: INBOX_APPEND,
    guard: 'if len < backlog_max and',
    mutation: 'if len <= backlog_max and',
    why: 'the fast path stores only below backlogMax entries (at it, the backlog is checked)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-fast-bytes',
    file: INBOX_APPEND,
    guard: 'and bytes + size <= max_bytes then return store() end',
    mutation: 'and bytes + size <= max_bytes + 1 then return store() end',
    why: 'the fast path stores only a body that fits the byte cap, to the byte',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-size-type-and-body',
    file: INBOX_APPEND,
    guard: 'local size = #ARGV[6] + #ARGV[7]',
    mutation: 'local size = #ARGV[7]',
    why: "an entry's stored bytes are its type's and its body's",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-bytes-counted',
    file: INBOX_APPEND,
    guard: "redis.call('INCRBY', bytes_key, size)",
    mutation: '',
    why: 'the byte counter is added to on append',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-append-empty-resets-bytes',
    file: INBOX_APPEND,
    guard: "if bytes ~= 0 then\n    redis.call('DEL', bytes_key)\n    bytes = 0\n  end",
    mutation: '',
    why: 'an empty inbox holds no bytes, whatever a counter left by a deleted stream says',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-group-from-first',
    file: INBOX_APPEND,
    guard: "if processed == nil then redis.call('XGROUP', 'CREATE', inbox, group, '0', 'MKSTREAM')",
    mutation:
      "if processed == nil then redis.call('XGROUP', 'CREATE', inbox, group, '$', 'MKSTREAM')",
    why: 'entries stored before any group are unprocessed: the group starts at the first',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-room-for-one',
    file: INBOX_APPEND,
    guard: 'max_len - 1 - slack, max_bytes - size)',
    mutation: 'max_len - slack, max_bytes - size)',
    why: 'at maxLen, the append trims one processed entry for the new one',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-slack',
    file: INBOX_APPEND,
    guard: 'math.floor(max_len / 1000)',
    mutation: '0',
    why: 'a trim to make room takes 1 in 1,000 of maxLen more (so the next appends take the fast path)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-slack-at-most-100',
    file: INBOX_APPEND,
    guard: 'local slack = math.min(100, math.floor(max_len / 1000))',
    mutation: 'local slack = math.floor(max_len / 1000)',
    why: 'the slack of a trim to make room is at most 100 entries',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-full-backlog',
    file: INBOX_APPEND,
    guard: "if backlog >= backlog_max then cap = 'backlog'",
    mutation: "if backlog > backlog_max then cap = 'backlog'",
    why: 'an append is refused once the unprocessed entries reach backlogMax',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-full-bytes',
    file: INBOX_APPEND,
    guard: "elseif bytes + size > max_bytes then cap = 'bytes'",
    mutation: "elseif bytes > max_bytes then cap = 'bytes'",
    why: 'an append is refused when its body does not fit the bytes left after trimming',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-full-bytes-exact',
    file: INBOX_APPEND,
    guard: "elseif bytes + size > max_bytes then cap = 'bytes'",
    mutation: "elseif bytes + size >= max_bytes then cap = 'bytes'",
    why: 'a body that fits the byte cap exactly (after trimming) is stored',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-full-entries',
    file: INBOX_APPEND,
    guard: "elseif len >= max_len then cap = 'entries' end",
    mutation: "elseif len > max_len then cap = 'entries' end",
    why: 'an append is refused when processed entries behind a pending one fill maxLen',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-full-refuses',
    file: INBOX_APPEND,
    guard: "if cap then return {'full', cap, backlog, len, bytes} end",
    mutation: '',
    why: 'a full inbox stores nothing',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-group-name',
    file: INBOX_TRIM,
    guard: "if f['name'] == group then return f end",
    mutation: 'return f',
    why: "only the breaker's group's progress makes entries processed",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-empty-resets-bytes',
    file: INBOX_TRIM,
    guard:
      "if len == 0 and bytes ~= 0 then\n    redis.call('DEL', bytes_key)\n    bytes = 0\n  end",
    mutation: '',
    why: 'an empty stream holds no bytes, whatever a stale counter says',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-repair-when-caught-up',
    file: INBOX_TRIM,
    guard: "if #redis.call('XRANGE', inbox, '(' .. last, '+', 'COUNT', 1) == 0 then",
    mutation: "if #redis.call('XRANGE', inbox, '(' .. last, '+', 'COUNT', 1) ~= 0 then",
    why: "an older version's lag is set right only once the group has read everything",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-repair-at-settle',
    file: INBOX_TRIM,
    guard: 'if (not lag or lag > 0) and repair then',
    mutation: 'if (not lag or lag > 0) and false then',
    why: "settling sets right the backlog an older version's trims left",
    tests: ['test/integration/webhook-inbox.test.ts'],
    filter: 'sets right the backlog',
  },
  {
    id: 'inbox-lag-unknown',
    file: INBOX_TRIM,
    guard: 'if not lag then lag = len end',
    mutation: 'if not lag then lag = 0 end',
    why: 'when XINFO cannot say the lag (after an XDEL), every entry counts as unprocessed',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-first-pending',
    file: INBOX_TRIM,
    guard: 'if pending > 0 then',
    mutation: 'if false then',
    why: 'the oldest pending entry bounds what is processed',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-processed-delivered',
    file: INBOX_TRIM,
    guard: 'return not id_less(last, id) and',
    mutation: 'return',
    why: 'an entry never delivered to the group is not processed (never trimmed)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-processed-last-delivered',
    file: INBOX_TRIM,
    guard: 'return not id_less(last, id) and',
    mutation: 'return id_less(id, last) and',
    why: 'the last entry delivered is processed once acknowledged (trimmed like the others)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-processed-before-pending',
    file: INBOX_TRIM,
    guard: 'or id_less(id, first_pending))',
    mutation: 'or not id_less(first_pending, id))',
    why: 'the oldest pending entry itself is not processed (never trimmed)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-backlog-pending',
    file: INBOX_TRIM,
    guard: 'return len, bytes, pending + lag, processed',
    mutation: 'return len, bytes, lag, processed',
    why: 'pending entries count in the backlog',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-no-group',
    file: INBOX_TRIM,
    guard: 'if processed == nil then return len, bytes end',
    mutation: '',
    why: 'without the group nothing is processed: nothing is trimmed',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-entries-cap',
    file: INBOX_TRIM,
    guard: 'len - removed > max_len',
    mutation: 'len - removed >= max_len',
    why: 'processed entries are kept up to maxLen, exactly',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-bytes-cap',
    file: INBOX_TRIM,
    guard: 'bytes - freed > max_bytes',
    mutation: 'bytes - freed >= max_bytes',
    why: 'processed entries are kept up to maxBytes, exactly',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-only-over',
    file: INBOX_TRIM,
    guard: 'if not over() or removed',
    mutation: 'if removed',
    why: 'a trim stops once under the caps (the processed history is kept)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-at-most',
    file: INBOX_TRIM,
    guard: 'or removed >= ${TRIM_MAX_PER_CALL} or',
    mutation: 'or',
    why: 'a trim removes at most TRIM_MAX_PER_CALL entries a call',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-processed-only',
    file: INBOX_TRIM,
    guard: 'or not processed(e[1]) then',
    mutation: 'then',
    why: 'a trim never removes an unprocessed entry, nor one behind it',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-frees-type-and-body',
    file: INBOX_TRIM,
    guard: 'for i = 2, #e[2], 2 do',
    mutation: 'for i = 4, #e[2], 2 do',
    why: "a trimmed entry's bytes (type and body) are taken off the counter",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-nothing',
    file: INBOX_TRIM,
    guard: 'if cut == nil then return len, bytes end',
    mutation: '',
    why: 'a trim with nothing to remove writes nothing',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-minid-exact',
    file: INBOX_TRIM,
    guard: "string.format('%.0f', seq + 1)",
    mutation: "string.format('%.0f', seq)",
    why: 'XTRIM MINID removes exactly the entries counted, the last one included',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-trim-bytes-not-negative',
    file: INBOX_TRIM,
    guard: 'bytes = math.max(0, bytes - freed)',
    mutation: 'bytes = bytes - freed',
    why: 'the byte counter never goes below 0 (entries stored before it existed)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-settle-acks',
    file: INBOX_TRIM,
    guard: 'if #ARGV > 3 then acked =',
    mutation: 'if #ARGV > 4 then acked =',
    why: 'settling acknowledges the ids given, a single one too',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-read-group',
    file: INBOX_TRIM,
    guard: "if (f.get('name') !== group) continue;",
    mutation: '',
    why: "the inbox's state is the breaker group's, not another group's",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-read-pending',
    file: INBOX_TRIM,
    guard: "backlog = Number(f.get('pending') ?? 0) + (typeof lag === 'number' ? lag : entries);",
    mutation: "backlog = typeof lag === 'number' ? lag : entries;",
    why: "the inbox's state counts pending entries in the backlog",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-read-lag-unknown',
    file: INBOX_TRIM,
    guard: "(typeof lag === 'number' ? lag : entries)",
    mutation: "(typeof lag === 'number' ? lag : 0)",
    why: "the inbox's state counts every entry as unprocessed when XINFO cannot say the lag",
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-state-read-no-group',
    file: INBOX_TRIM,
    guard: 'let backlog = entries;',
    mutation: 'let backlog = 0;',
    why: 'without the group, every entry is unprocessed',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-read-count-after-claim',
    file: INBOX_READ,
    guard: 'if (taken.length >= count) return taken;',
    mutation: 'if (taken.length > count) return taken;',
    why: 'a read returns at most `count` entries, claimed ones first',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-read-deliveries',
    file: INBOX_READ,
    guard: 'await readDeliveries(redis, keys, group, consumer, taken);',
    mutation: '',
    why: 'a claimed entry says how often it was delivered (the dead-letter count)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-read-claimed-flag',
    file: INBOX_READ,
    guard: 'entriesOf(claimed[1], true)',
    mutation: 'entriesOf(claimed[1], false)',
    why: 'a claimed entry is marked claimed (a retry)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-read-claim-idle',
    file: INBOX_READ,
    guard: 'options.claimIdleMs ?? 30_000',
    mutation: 'options.claimIdleMs ?? 0',
    why: 'an entry another reader holds is claimed only after claimIdleMs (30 s by default)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-read-group-from-start',
    file: INBOX_READ,
    guard: "await redis.xgroup('CREATE', keys.webhookInbox, group, '0', 'MKSTREAM');",
    mutation: "await redis.xgroup('CREATE', keys.webhookInbox, group, '$', 'MKSTREAM');",
    why: 'a reader that makes the group reads the entries stored before it',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-ack-nothing',
    file: INBOX_READ,
    guard: 'if (ids.length === 0) return 0;',
    mutation: '',
    why: 'acknowledging no id is fine (XACK needs one)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-dead-letters-capped',
    file: INBOX_DEAD,
    guard: "'MAXLEN', '~', ${DEAD_LETTERS_KEPT}, '*'",
    mutation: "'*'",
    why: 'the dead letters are capped (about DEAD_LETTERS_KEPT)',
    tests: INBOX_TESTS,
  },
];

const STORE_TESTS = ['test/integration/store.test.ts'];
const DECIDE_TESTS = ['test/integration/holds-decide.test.ts'];
const SCRIPT_KEYS_TESTS = ['test/integration/script-keys.test.ts'];
const GUARD_HOLDS_TESTS = ['test/integration/guards-holds.test.ts'];
const CLAIM = 'src/store/claim-keys.ts';
const BEGIN = 'src/store/begin-run.ts';
const HOLDS = 'src/store/holds.ts';
const HOLD_LUA = 'src/store/hold-lua.ts';
const KNOWN = 'src/store/known-state.ts';

const claimKeys: Guard[] = [
  {
    id: 'claim-conflict',
    file: CLAIM,
    guard: "then\n    return {'conflict', i, h[1]}\n  end",
    mutation: 'then end',
    why: 'a key bound to another intent refuses the whole chunk',
    tests: STORE_TESTS,
  },
  {
    id: 'claim-legacy-source',
    file: CLAIM,
    guard: "and string.gsub(h[1], ' by maintenance$', ' by window') ~= c[2] then",
    mutation: 'then',
    why: 'a key bound by 0.1.x with source maintenance is the same intent as with source window',
    tests: ['test/integration/legacy-source.test.ts'],
  },
  {
    id: 'claim-held-activation',
    file: CLAIM,
    guard: "if c[3] == 'activate' and redis.call('EXISTS', ARGV[5] .. c[4]) == 1 then",
    mutation: 'if false then',
    why: 'no activation is bound while a hold stands',
    tests: DECIDE_TESTS,
  },
  {
    id: 'claim-existing-kept',
    file: CLAIM,
    guard: '  if h[2] then\n    out[#out + 1] = h[2]',
    mutation: '  if false then\n    out[#out + 1] = h[2]',
    why: 'a repeat of a bound key answers its state and takes no new number',
    tests: STORE_TESTS,
  },
];

const beginRun: Guard[] = [
  {
    id: 'begin-lost',
    file: BEGIN,
    guard: "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end",
    mutation: '',
    why: 'a run that does not hold its job lock does not start',
    tests: STORE_TESTS,
  },
  {
    id: 'begin-stale',
    file: BEGIN,
    guard: "if not state or seq ~= ARGV[2] then return {'stale'} end",
    mutation: "if not state then return {'stale'} end",
    why: 'a job of another generation of the key does not start',
    tests: STORE_TESTS,
  },
  {
    id: 'begin-terminal',
    file: BEGIN,
    guard: "if state ~= 'queued' then return {'terminal', state} end",
    mutation: '',
    why: 'a terminal intent never calls the API again',
    tests: RECORD_TESTS,
  },
  {
    id: 'begin-superseded',
    file: BEGIN,
    guard: 'if newest and tonumber(newest) > tonumber(seq) then',
    mutation: 'if false then',
    why: 'an intent with a newer one for the same account is superseded, not run',
    tests: RECORD_TESTS,
  },
  {
    id: 'begin-newest-declared',
    file: BEGIN,
    guard: "if newestKey ~= ARGV[9] then return {'keys-changed', newestKey} end",
    mutation: '',
    why: "the newest intent's binding is read only once declared (else a cancelled newer one is missed)",
    tests: RECORD_TESTS,
  },
  {
    id: 'begin-cancelled-newer',
    file: BEGIN,
    guard: "if redis.call('HGET', KEYS[7], '${B.state}') ~= 'cancelled' then",
    mutation: 'if true then',
    why: 'a newer intent withdrawn before it ran supersedes nothing',
    tests: RECORD_TESTS,
  },
  {
    id: 'begin-cancelled-newer-order',
    file: BEGIN,
    guard: "redis.call('HSET', KEYS[3], 'seq', seq, 'key', ARGV[3])",
    mutation: '',
    why: 'the older intent that runs after a withdrawn newer one becomes the newest',
    tests: RECORD_TESTS,
  },
  {
    id: 'begin-held-activation',
    file: BEGIN,
    guard: "if ARGV[8] == 'activate' and redis.call('EXISTS', KEYS[6]) == 1 then",
    mutation: 'if false then',
    why: 'an activation asked before a hold does not run once the hold stands',
    tests: DECIDE_TESTS,
  },
  {
    id: 'begin-busy',
    file: BEGIN,
    guard: "if holder and holder ~= ARGV[3] then return {'busy', redis.call('PTTL', KEYS[4])} end",
    mutation: '',
    why: 'one call per account at a time: another intent holding the lease makes this one wait',
    tests: RECORD_TESTS,
  },
];

const holds: Guard[] = [
  {
    id: 'holds-first-fixes-base',
    file: HOLD_LUA,
    guard: "if redis.call('EXISTS', ${HOLDS}) == 0 then",
    mutation: 'if true then',
    why: 'the first hold fixes the base; later holds keep it',
    tests: STORE_TESTS,
  },
  {
    id: 'holds-need-off-pending',
    file: HOLD_LUA,
    guard: "local needOff = pending ~= false or known ~= 'inactive'",
    mutation: "local needOff = known ~= 'inactive'",
    why: 'a pending intent of ours means the account must be switched off (whatever it will make it)',
    tests: DECIDE_TESTS,
  },
  {
    id: 'holds-need-off-known-off',
    file: HOLD_LUA,
    guard: "local needOff = pending ~= false or known ~= 'inactive'",
    mutation: 'local needOff = true',
    why: 'an account known to be off with nothing pending is not switched off again',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'holds-known-pending-first',
    file: HOLD_LUA,
    guard: 'local known = pending or sdxRecorded(KP, ${ID})',
    mutation: 'local known = sdxRecorded(KP, ${ID})',
    why: 'the base is what a pending intent of ours will make the account, before what was recorded',
    tests: DECIDE_TESTS,
  },
  {
    id: 'holds-release-last-only',
    file: HOLD_LUA,
    guard: "if redis.call('HLEN', ${HOLDS}) <= ${META_FIELDS} then",
    mutation: "if redis.call('HLEN', ${HOLDS}) <= ${META_FIELDS} + 1 then",
    why: 'releasing one of two holds keeps the account held',
    tests: DECIDE_TESTS,
  },
  {
    id: 'holds-release-left',
    file: HOLD_LUA,
    guard: 'if before == false then',
    mutation: 'if false then',
    why: 'a release that leaves holds names them',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'holds-activation-force-no-hold-left',
    file: HOLD_LUA,
    guard: 'goes = #left == 0',
    mutation: 'goes = true',
    why: "an operator's activate binds the activation only when no hold is left",
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'holds-activation-base-active',
    file: HOLD_LUA,
    guard: "goes = released == 1 and before == 'active'",
    mutation: 'goes = released == 1',
    why: 'a release switches back on only an account whose base is active',
    tests: DECIDE_TESTS,
  },
  {
    id: 'holds-activation-needs-key',
    file: HOLD_LUA,
    guard: "if ${KEY} ~= '' then",
    mutation: 'if true then',
    why: 'a release asked without an activation key binds nothing, not even an empty key',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'holds-activation-base-if-off',
    file: HOLD_LUA,
    guard: "if goes and ${MODE} == 'base-if-off' then goes = sdxKnown(KP, ${ID}) ~= 'active' end",
    mutation: '',
    why: 'a release whose source never switched the account off binds nothing when it is known on',
    tests: GUARD_HOLDS_TESTS,
  },
];

const knownState: Guard[] = [
  {
    id: 'known-keys-hold-newest',
    file: KNOWN,
    guard: 'if newest and not sdxKeySet[KP[2] .. newest] then return false end',
    mutation: '',
    why: "a hold script runs again when an account's newest intent moved after its keys were read",
    tests: SCRIPT_KEYS_TESTS,
  },
  {
    id: 'known-keys-hold-lease',
    file: KNOWN,
    guard: 'if lease and not sdxKeySet[KP[2] .. lease] then return false end',
    mutation: '',
    why: "a hold script runs again when an account's lease holder moved after its keys were read",
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-target-queued',
    file: KNOWN,
    guard: "if st ~= 'queued' then return false end",
    mutation: '',
    why: 'only a queued intent counts as pending',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-target-activate',
    file: KNOWN,
    guard: "if act == 'activate' then return 'active' end",
    mutation: '',
    why: 'a pending activation will make the account active',
    tests: DECIDE_TESTS,
  },
  {
    id: 'known-pending-newest-first',
    file: KNOWN,
    guard: 'if newest then return newest end',
    mutation: '',
    why: "the account's newest pending intent says what it will be, before the lease holder",
    tests: DECIDE_TESTS,
  },
  {
    id: 'known-pending-lease-holder',
    file: KNOWN,
    guard: "return sdxTarget(KP, redis.call('GET', KP[3] .. id))",
    mutation: 'return false',
    why: 'an intent still running (holding the lease) counts as pending',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-recorded-pending-is-on',
    file: KNOWN,
    guard: "if s == 'active' or s == 'pending' then return 'active' end",
    mutation: "if s == 'active' then return 'active' end",
    why: 'an account recorded `pending` (OAuth, activated) counts as on',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-recorded-error-is-off',
    file: KNOWN,
    guard: "if s == 'inactive' or s == 'error' then return 'inactive' end",
    mutation: "if s == 'inactive' then return 'inactive' end",
    why: 'an account recorded `error` counts as off',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-observe-needs-part',
    file: KNOWN,
    guard: "if part == '' then return end",
    mutation: '',
    why: 'no read, nothing recorded',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-observe-needs-time',
    file: KNOWN,
    guard: "if ms == '' then return end",
    mutation: '',
    why: 'over what is recorded, only a read that says when it is from is written',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-observe-newer',
    file: KNOWN,
    guard: "if shown and shown ~= '' and tonumber(ms) <= tonumber(shown) then return end",
    mutation: '',
    why: 'over what is recorded, only a newer read is written',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-observe-equal',
    file: KNOWN,
    guard: 'tonumber(ms) <= tonumber(shown)',
    mutation: 'tonumber(ms) < tonumber(shown)',
    why: 'a read as old as what is recorded does not overwrite it',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-claim-conflict',
    file: KNOWN,
    guard: "then\n    return 'conflict', 0\n  end",
    mutation: 'then end',
    why: 'a key bound to another intent is a conflict, never rebound',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-claim-legacy-source',
    file: KNOWN,
    guard: "and string.gsub(h[1], ' by maintenance$', ' by window') ~= fp then",
    mutation: 'then',
    why: 'a key bound by 0.1.x with source maintenance is the same intent as with source window',
    tests: ['test/integration/legacy-source.test.ts'],
  },
  {
    id: 'known-claim-existing',
    file: KNOWN,
    guard: 'if h[2] then return h[2], tonumber(h[3]) end',
    mutation: '',
    why: 'a key already bound answers its state; it takes no new number',
    tests: GUARD_HOLDS_TESTS,
  },
];

const SMALL_TESTS = ['test/integration/guards-small.test.ts'];

const small: Guard[] = [
  {
    id: 'pause-never-shortens',
    file: 'src/store/pause-queue.ts',
    guard: 'if left >= tonumber(ARGV[1]) then return left end',
    mutation: '',
    why: 'a shorter pause never shortens a longer one already set',
    tests: SMALL_TESTS,
  },
  {
    id: 'repair-turn-own',
    file: 'src/store/repair-turn.ts',
    guard: "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end",
    mutation: "return redis.call('DEL', KEYS[1])",
    why: 'a repair turn given back deletes only its own turn',
    tests: SMALL_TESTS,
  },
  {
    id: 'window-record-create-once',
    file: 'src/store/window-record.ts',
    guard: "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end",
    mutation: '',
    why: 'a window is created once: a second create with its id changes nothing',
    tests: SMALL_TESTS,
  },
  {
    id: 'window-record-cancel-missing',
    file: 'src/store/window-record.ts',
    guard: "if not state then return '' end",
    mutation: '',
    why: 'cancelling a window that does not exist creates nothing and says so',
    tests: SMALL_TESTS,
  },
  {
    id: 'window-record-cancel-scheduled',
    file: 'src/store/window-record.ts',
    guard: "if state == 'scheduled' then",
    mutation: 'if true then',
    why: 'only a scheduled window is cancelled, once (its cancelled_at kept)',
    tests: SMALL_TESTS,
  },
  {
    id: 'breaker-mark-trip-own',
    file: 'src/store/breaker-state.ts',
    guard: "if redis.call('HGET', KEYS[1], '${BK.tripId}') == ARGV[1] then",
    mutation: 'if true then',
    why: "a trip is marked enqueued only while the breaker record is still that trip's",
    tests: SMALL_TESTS,
  },
  {
    id: 'breaker-mark-activation-own',
    file: 'src/store/breaker-state.ts',
    guard: "if redis.call('HGET', KEYS[1], '${BK.pendingActivation}') == ARGV[1] then",
    mutation: 'if true then',
    why: 'an activation is marked enqueued only while it is still the pending one',
    tests: SMALL_TESTS,
  },
];

const BREAKER_TESTS = ['test/integration/breaker.test.ts'];
const TRIP = 'src/store/breaker-trip.ts';
const TICK = 'src/store/breaker-tick.ts';

const breaker: Guard[] = [
  {
    id: 'breaker-trip-duplicate',
    file: TRIP,
    guard:
      "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return {'duplicate'} end",
    mutation: '',
    why: 'a signal id is counted once',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-open-counts-only',
    file: TRIP,
    guard: "if before == 'open' then return {'open'} end",
    mutation: '',
    why: 'an open breaker counts signals but never trips again (one trip, one intent, one event)',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-bounce-min-volume',
    file: TRIP,
    guard: 'volume >= tonumber(ARGV[9])',
    mutation: 'volume >= 0',
    why: 'the bounce rule never trips below its minimum volume',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-bounce-rate',
    file: TRIP,
    guard: 'hard / volume >= tonumber(bounceRate)',
    mutation: 'hard / volume > tonumber(bounceRate)',
    why: 'the bounce rule trips at its rate exactly',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-complaint-min-volume',
    file: TRIP,
    guard: 'delivered >= tonumber(ARGV[11])',
    mutation: 'delivered >= 0',
    why: 'the complaint rule never trips below its minimum volume',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-complaint-rate',
    file: TRIP,
    guard: 'complained / delivered >= tonumber(complaintRate)',
    mutation: 'complained / delivered > tonumber(complaintRate)',
    why: 'the complaint rule trips at its rate exactly',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-counted',
    file: TRIP,
    guard: "if not reason then return {'counted'} end",
    mutation: '',
    why: 'a signal that crosses no rule is only counted',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-half-open-doubles',
    file: TRIP,
    guard: "  if before == 'half_open' then",
    mutation: '  if false then',
    why: 'a trip while half-open doubles the cooldown',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-cooldown-cap',
    file: TRIP,
    guard: 'cooldown = math.min(last * 2, tonumber(ARGV[20]))',
    mutation: 'cooldown = last * 2',
    why: 'a doubled cooldown never passes the longest one',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-tick-open-due',
    file: TICK,
    guard: "if h[1] == 'open' and h[2] and tonumber(h[2]) <= now then",
    mutation: "if h[1] == 'open' and h[2] then",
    why: 'an open breaker goes half-open only once its cooldown ran out',
    tests: SMALL_TESTS,
  },
  {
    id: 'breaker-tick-close-due',
    file: TICK,
    guard: "if h[1] == 'half_open' and tonumber(h[3]) + tonumber(ARGV[9]) <= now then",
    mutation: "if h[1] == 'half_open' then",
    why: 'a half-open breaker closes only after its watch',
    tests: SMALL_TESTS,
  },
  {
    id: 'breaker-reset-not-open',
    file: 'src/store/breaker-reset.ts',
    guard: "if state ~= 'open' and state ~= 'half_open' then return {'not_open'} end",
    mutation: '',
    why: 'only an open or half-open breaker is reset',
    tests: BREAKER_TESTS,
  },
  {
    id: 'breaker-release-left',
    file: 'src/store/breaker-reset.ts',
    guard: 'if #left > 0 then leftJson = cjson.encode(left) end',
    mutation: '',
    why: "a breaker's release names the holds that keep the account off",
    tests: BREAKER_TESTS,
  },
];

const RESET = 'src/store/breaker-reset.ts';
const GUARD_BREAKER_TESTS = ['test/integration/guards-breaker.test.ts'];
const KEY_CHECK_TESTS = ['test/integration/guards-key-checks.test.ts'];

const breakerRelease: Guard[] = [
  {
    id: 'breaker-reset-half-open',
    file: RESET,
    guard: "if state ~= 'open' and state ~= 'half_open' then return {'not_open'} end",
    mutation: "if state ~= 'open' then return {'not_open'} end",
    why: 'a half-open breaker is reset too (closed)',
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-reset-keys-changed',
    file: RESET,
    guard:
      "if (tripId or '') ~= ARGV[10] or not sdxKeysHold(KP, {id}) then return '${KEYS_CHANGED}' end",
    mutation: '',
    why: 'a reset runs only with the keys read for its breaker (else it reads them again)',
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-reset-trip-moved',
    file: RESET,
    guard: "if (tripId or '') ~= ARGV[10] or not",
    mutation: 'if not',
    why: "a reset whose breaker tripped again after its keys were read claims the new trip's activation, declared",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-release-window-oldest',
    file: RESET,
    guard: 'for m = minute - tonumber(${a.WINDOW_MIN}) + 1, minute do',
    mutation: 'for m = minute - tonumber(${a.WINDOW_MIN}) + 2, minute do',
    why: "a reset (or half-open step) forgets the window's oldest minute too",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-release-window-newest',
    file: RESET,
    guard: 'for m = minute - tonumber(${a.WINDOW_MIN}) + 1, minute do',
    mutation: 'for m = minute - tonumber(${a.WINDOW_MIN}) + 1, minute - 1 do',
    why: "a reset (or half-open step) forgets the window's current minute too",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-release-claim-conflict',
    file: RESET,
    guard: "if claimed and claimed ~= 'conflict' then",
    mutation: 'if claimed then',
    why: "an activation key bound to another intent is not the reset's activation (none is asked)",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-release-claim',
    file: RESET,
    guard: "if claimed and claimed ~= 'conflict' then",
    mutation: 'if false then',
    why: "a reset of the account's last hold, base active, asks for the account back",
    tests: [...GUARD_BREAKER_TESTS, ...BREAKER_TESTS],
  },
  {
    id: 'breaker-release-event-base',
    file: RESET,
    guard: "before and ('\"' .. before .. '\"') or 'null'",
    mutation: "'\"' .. tostring(before) .. '\"'",
    why: "the release event's base is null while other holds keep the account off",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-tick-keys-changed',
    file: TICK,
    guard:
      "if (tripId or '') ~= ARGV[12] or not sdxKeysHold(KP, {id}) then return '${KEYS_CHANGED}' end",
    mutation: '',
    why: 'a half-open step runs only with the keys read for its breaker (else it reads them again)',
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-tick-trip-moved',
    file: TICK,
    guard: "if (tripId or '') ~= ARGV[12] or not",
    mutation: 'if not',
    why: "a half-open step whose breaker tripped again after its keys were read claims the new trip's activation, declared",
    tests: GUARD_BREAKER_TESTS,
  },
  {
    id: 'breaker-trip-keys-changed',
    file: TRIP,
    guard: "if not sdxKeysHold(cjson.decode(ARGV[21]), {id}) then return '${KEYS_CHANGED}' end",
    mutation: '',
    why: "a trip whose account's newest intent moved after its keys were read runs again with its binding",
    tests: GUARD_BREAKER_TESTS,
  },
];

const STATE = 'src/store/breaker-state.ts';
const GUARD_TRIP_TESTS = ['test/integration/guards-trip.test.ts'];
const COUNT_MINUTE = 'math.min(minute, math.floor(tonumber(ARGV[18]) / 60000))';
const WINDOW_LOOP = 'for m = ${MINUTE} - ${WINDOW_MIN} + 1, ${MINUTE} do';

const tripCount: Guard[] = [
  {
    id: 'breaker-trip-signal-id',
    file: TRIP,
    guard: "if signalId ~= '' then",
    mutation: 'if true then',
    why: 'signals without an id are each counted (no dedupe between them)',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-kind',
    file: TRIP,
    guard: "if kind ~= '' then",
    mutation: 'if true then',
    why: "an operator's trip counts no signal (an open breaker's place in the list is its last signal's)",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-count-minute-cap',
    file: TRIP,
    guard: COUNT_MINUTE,
    mutation: 'math.floor(tonumber(ARGV[18]) / 60000)',
    why: "a signal dated after now (a clock ahead) counts in now's minute",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-count-minute',
    file: TRIP,
    guard: COUNT_MINUTE,
    mutation: 'minute',
    why: 'a signal counts in the minute it happened (and leaves the window with it)',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-force',
    file: TRIP,
    guard: "if ARGV[12] == '1' then",
    mutation: "if ARGV[12] ~= '1' then",
    why: "an operator's trip trips whatever the numbers (reason manual); a signal only by the rules",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-bounce-volume',
    file: TRIP,
    guard: '  if volume > 0 and',
    mutation: '  if volume > 1 and',
    why: 'a bounce rule with a minimum volume of 1 trips on the first hard bounce',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-complaint-volume',
    file: TRIP,
    guard: '  if delivered > 0 and',
    mutation: '  if delivered > 1 and',
    why: 'a complaint rule with a minimum volume of 1 trips on one delivery and one complaint',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-cooldown-off',
    file: TRIP,
    guard: 'if cooldown > 0 then',
    mutation: 'if cooldown >= 0 then',
    why: 'with cooldowns off (0) a trip stays open until reset: no cooldown, nothing due',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-trip-rate-no-volume',
    file: TRIP,
    guard: 'if b > 0 then',
    mutation: 'if b >= 0 then',
    why: "a trip's numbers have no rate (null) without a volume, never a NaN",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-window-oldest',
    file: STATE,
    guard: WINDOW_LOOP,
    mutation: 'for m = ${MINUTE} - ${WINDOW_MIN} + 2, ${MINUTE} do',
    why: "the rules read the window's oldest minute",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-window-newest',
    file: STATE,
    guard: WINDOW_LOOP,
    mutation: 'for m = ${MINUTE} - ${WINDOW_MIN} + 1, ${MINUTE} - 1 do',
    why: "the rules read the window's current minute",
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-window-span',
    file: STATE,
    guard: WINDOW_LOOP,
    mutation: 'for m = ${MINUTE} - ${WINDOW_MIN}, ${MINUTE} do',
    why: 'the rules never read a minute before the window',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-tick-wait-open',
    file: TICK,
    guard: "if h[1] == 'open' and h[2] then",
    mutation: 'if false then',
    why: 'a tick before the cooldown ran out leaves the breaker due at its end',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-tick-wait-open-cooldown',
    file: TICK,
    guard: "if h[1] == 'open' and h[2] then",
    mutation: "if h[1] == 'open' then",
    why: 'a tick of an open breaker without a cooldown does nothing (nothing due)',
    tests: GUARD_TRIP_TESTS,
  },
  {
    id: 'breaker-tick-wait-half-open',
    file: TICK,
    guard: "elseif h[1] == 'half_open' then",
    mutation: 'elseif false then',
    why: 'a tick before the watch ended leaves the half-open breaker due at its end',
    tests: GUARD_TRIP_TESTS,
  },
];

const HOLD_BRANCH_TESTS = [
  ...GUARD_HOLDS_TESTS,
  ...DECIDE_TESTS,
  'test/integration/manual-holds.test.ts',
];
const WINDOW_BRANCH_TESTS = WINDOW_TESTS;

const holdBranches: Guard[] = [
  {
    id: 'holds-activation-force',
    file: HOLD_LUA,
    guard: "if ${MODE} == 'force' then",
    mutation: 'if false then',
    why: "an operator's activate asks for the account back once no hold is left, whatever the base",
    tests: HOLD_BRANCH_TESTS,
  },
  {
    id: 'holds-activation-goes',
    file: HOLD_LUA,
    guard: '  if goes then\n',
    mutation: '  if true then\n',
    why: 'a release that leaves the account off (another hold, base inactive) asks for no activation',
    tests: HOLD_BRANCH_TESTS,
  },
  {
    id: 'holds-left-hold-fields-only',
    file: HOLD_LUA,
    guard: "if string.sub(f, 1, ${HOLD_FIELD.length}) == '${HOLD_FIELD}' then",
    mutation: 'if true then',
    why: "the holds left after a release are hold ids only, never the record's own fields",
    tests: HOLD_BRANCH_TESTS,
  },
  {
    id: 'window-end-start-fields-only',
    file: WINDOW_HOLDS,
    guard: "if string.sub(f, 1, 2) == 'b:' then",
    mutation: 'if true then',
    why: "a window's end releases the accounts its start decided, never reads its other fields as accounts",
    tests: WINDOW_BRANCH_TESTS,
  },
  {
    id: 'window-end-decisions-only',
    file: WINDOW_HOLDS,
    guard: "if string.sub(f, 1, 2) == 'e:' then",
    mutation: 'if true then',
    why: "a window's end answers its decisions per account, nothing else",
    tests: WINDOW_BRANCH_TESTS,
  },
];

const keyChecks: Guard[] = [
  {
    id: 'holds-take-keys-changed',
    file: HOLDS,
    guard:
      "if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end\nlocal out, indexed = {}, {}",
    mutation: 'local out, indexed = {}, {}',
    why: 'a hold whose account got a newer intent after its keys were read runs again with its binding',
    tests: SCRIPT_KEYS_TESTS,
  },
  {
    id: 'holds-release-keys-changed',
    file: HOLDS,
    guard: "if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end\nlocal out = {}\n",
    mutation: 'local out = {}\n',
    why: 'a release whose account got a newer intent after its keys were read runs again with its binding',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'window-hold-keys-changed',
    file: WINDOW_HOLDS,
    guard: "if not sdxKeysHold(KP, ids) then return '${KEYS_CHANGED}' end",
    mutation: '',
    why: "a window's start whose account got a newer intent after its keys were read runs again",
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'window-release-expected',
    file: WINDOW_HOLDS,
    guard: "if not expected[id] then return '${KEYS_CHANGED}' end",
    mutation: '',
    why: "a window's end releases only accounts whose keys it read (else it reads them again)",
    tests: KEY_CHECK_TESTS,
  },
];

const SCRIPT = 'src/store/script.ts';
const SCRIPT_CHECK_TESTS = [
  ...KEY_CHECK_TESTS,
  ...SCRIPT_KEYS_TESTS,
  'test/unit/script-keys.test.ts',
];

const scriptCheck: Guard[] = [
  {
    id: 'script-check-refuses',
    file: SCRIPT,
    guard: 'if k ~= nil and not sdxDeclared[tostring(k)] then',
    mutation: 'if false then',
    why: 'a script that touches a key it did not declare fails',
    tests: SCRIPT_CHECK_TESTS,
  },
  {
    id: 'script-check-keyless',
    file: SCRIPT,
    guard: 'if k ~= nil and not',
    mutation: 'if not',
    why: 'a command without a key (PING) is let through',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-all-keys',
    file: SCRIPT,
    guard: 'if sdxAllKeys[c] then to = #a',
    mutation: 'if false then to = #a',
    why: 'every key of DEL / UNLINK / EXISTS / MGET / TOUCH is checked, not only the first',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-command-case',
    file: SCRIPT,
    guard: 'local c = string.upper(cmd)',
    mutation: 'local c = cmd',
    why: "a command named in lower case ('del') is checked as in upper case",
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-xgroup',
    file: SCRIPT,
    guard: "elseif c == 'XGROUP' or c == 'XINFO' then from, to = 2, 2",
    mutation: 'elseif false then from, to = 2, 2',
    why: 'XGROUP / XINFO: the stream (second argument) is checked, not the subcommand',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-xread',
    file: SCRIPT,
    guard:
      "if type(v) == 'string' and string.upper(v) == 'STREAMS' then from, to = i + 1, i + 1 end",
    mutation: '',
    why: 'XREAD / XREADGROUP: the stream after STREAMS is checked',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-every-call',
    file: SCRIPT,
    guard: "lua.replace(/redis\\.call\\(/g, 'sdxCall(')",
    mutation: "lua.replace(/redis\\.call\\(/, 'sdxCall(')",
    why: 'every redis.call of a script is checked, not only the first',
    tests: SCRIPT_CHECK_TESTS,
  },
  {
    id: 'script-check-pcall',
    file: SCRIPT,
    guard: ".replace(/redis\\.pcall\\(/g, 'sdxPcall(')",
    mutation: '',
    why: 'redis.pcall is checked as redis.call',
    tests: KEY_CHECK_TESTS,
  },
  {
    id: 'script-check-on',
    file: SCRIPT,
    guard: "checking ??= process.env.SDX_CHECK_SCRIPT_KEYS === '1'",
    mutation: 'checking ??= false',
    why: 'SDX_CHECK_SCRIPT_KEYS=1 (every test run) turns the check on',
    tests: SCRIPT_CHECK_TESTS,
  },
  {
    id: 'script-needs-keys',
    file: SCRIPT,
    guard:
      "if (keys.length === 0) throw new Error('a script needs its keys in KEYS (none given)');",
    mutation: '',
    why: 'a script with no key is refused (a Cluster client would send it to any node)',
    tests: ['test/unit/script-keys.test.ts'],
  },
];

const BATCH = 'src/store/batch-record.ts';
const UNDO_RECORD = 'src/store/batch-undo-record.ts';
const LIFE_TESTS = ['test/integration/batch-life.test.ts'];
const GUARD_BATCH_TESTS = ['test/integration/guards-batch.test.ts'];
const ADD_TESTS = STORE_TESTS;

const batchRecord: Guard[] = [
  {
    id: 'batch-open-conflict',
    file: BATCH,
    guard: "if action and action ~= ARGV[2] then return {'conflict', action} end",
    mutation: '',
    why: 'a resume of a batch with another action is refused',
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-open-create-once',
    file: BATCH,
    guard: 'if not action then',
    mutation: 'if true then',
    why: 'a resume keeps what the batch has (created_at, total, source, reason)',
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-open-created',
    file: BATCH,
    guard: 'action and 0 or 1}',
    mutation: '1}',
    why: 'a resume says the batch was not created now',
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-add-seen-across-chunks',
    file: BATCH,
    guard: 'if not seen[i] and not here[ids[i]] then',
    mutation: 'if not here[ids[i]] then',
    why: 'an id met in an earlier chunk of the pass is a repeat',
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-add-repeat-in-chunk',
    file: BATCH,
    guard: 'if not seen[i] and not here[ids[i]] then',
    mutation: 'if not seen[i] then',
    why: 'an id met earlier in the same chunk is a repeat',
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-add-new',
    file: BATCH,
    guard: '    if not v then',
    mutation: '    if true then',
    why: 'an account a pass finds in the batch is not new (counted once, its end kept)',
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-add-done',
    file: BATCH,
    guard: "elseif v == '' then",
    mutation: 'elseif true then',
    why: 'an account with its end is done, not queued again',
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-add-sliced-replies',
    file: BATCH,
    guard: "if type(part) == 'table' then",
    mutation: 'if true then',
    why: 'a sliced HSET answers no list to collect',
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-add-slice-end',
    file: BATCH,
    guard: 'math.min(from + step - 1, #list)',
    mutation: 'math.min(from + step, #list)',
    why: "slices past Lua's unpack limit do not overlap",
    tests: ADD_TESTS,
    filter: 'addToBatch',
  },
  {
    id: 'batch-finish-enqueue-done',
    file: BATCH,
    guard: "if b[1] == '1' and (tonumber(b[3]) or 0) >= (tonumber(b[2]) or 0) then",
    mutation: 'if (tonumber(b[3]) or 0) >= (tonumber(b[2]) or 0) then',
    why: 'a batch is not finished while a pass is still enqueueing',
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-finish-all-done',
    file: BATCH,
    guard: '(tonumber(b[3]) or 0) >= (tonumber(b[2]) or 0)',
    mutation: '(tonumber(b[3]) or 0) > (tonumber(b[2]) or 0)',
    why: 'a batch is finished once done reaches total',
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-finish-once',
    file: BATCH,
    guard: "redis.call('HSETNX', ${BATCH}, '${BT.finishedAt}', ${NOW})",
    mutation: "redis.call('HSET', ${BATCH}, '${BT.finishedAt}', ${NOW})",
    why: "a batch's finished_at is its first finish",
    tests: GUARD_BATCH_TESTS,
  },
  {
    id: 'batch-noop-pass-keeps-figures',
    file: BATCH,
    guard: "if ARGV[5] == '1' then",
    mutation: 'if true then',
    why: "a pass that enqueued nothing keeps the record's figures (issue 20 §1)",
    tests: LIFE_TESTS,
    filter: 'no-op pass',
  },
  {
    id: 'batch-reopen-on-new-account',
    file: BATCH,
    guard: "    redis.call('HDEL', KEYS[3], '${BT.finishedAt}')",
    mutation: '',
    why: 'a pass that adds an account reopens a finished batch (only such a pass moves finished_at)',
    tests: LIFE_TESTS,
    filter: 'no-op pass',
  },
  {
    id: 'batch-cancelled-by',
    file: BATCH,
    guard: "  redis.call('HSET', KEYS[1], '${BT.cancelledBy}', ARGV[2])",
    mutation: '',
    why: 'batch cancel records who cancelled',
    tests: LIFE_TESTS,
    filter: 'who cancelled',
  },
  {
    id: 'batch-undo-keeps-earlier-result',
    file: UNDO_RECORD,
    guard: "or (v and new == 'already_undone')",
    mutation: '',
    why: "a second undo keeps each account's earlier undo result (counts per account)",
    tests: LIFE_TESTS,
    filter: 'second undo',
  },
  {
    id: 'batch-undo-done-after-enqueue',
    file: UNDO_RECORD,
    guard: "if u[1] == '1' and ended",
    mutation: 'if ended',
    why: 'an undo is not done while it has not gone through every account',
    tests: LIFE_TESTS,
    filter: 'killed',
  },
  {
    id: 'batch-undo-unmarked-counted',
    file: UNDO_RECORD,
    guard: "    if v ~= 'reactivated' then",
    mutation: '    if false then',
    why: 'an activation bound by a killed undo is counted as reactivated by its outcome',
    tests: LIFE_TESTS,
    filter: 'killed',
  },
  {
    id: 'batch-undo-activation-flag',
    file: RECORD,
    guard: 'intent.idempotencyKey === undoActivationKey(batchId, intent.accountId)',
    mutation: 'false',
    why: "the undo's activations' outcomes are counted in the batch's undo",
    tests: LIFE_TESTS,
    filter: 'undo',
  },
  {
    id: 'batch-report-sorted',
    file: 'src/store/batch-report-read.ts',
    guard: 'return [...new Set(ids)].sort();',
    mutation: 'return [...new Set(ids)];',
    why: "a batch's report lists its accounts by id (the same order every time)",
    tests: LIFE_TESTS,
    filter: 'rows by account id',
  },
];

const RATE = 'src/store/rate-budget.ts';
const SPEND = 'src/store/spend-budget.ts';
const GUARD_BUDGET_TESTS = ['test/integration/guards-budget.test.ts'];
const BUDGET_TESTS = [...GUARD_BUDGET_TESTS, ...STORE_TESTS];

const budgets: Guard[] = [
  {
    id: 'rate-budget-known',
    file: RATE,
    guard: 'if lim and wend then',
    mutation: 'if true then',
    why: 'nothing is held back before an answer said what the window is',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-window-over',
    file: RATE,
    guard: 'if now >= wend then',
    mutation: 'if false then',
    why: 'a window that ended is over (rolled over, or not held back)',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-unknown-length',
    file: RATE,
    guard: 'if wms > 0 then',
    mutation: 'if true then',
    why: 'past a window of unknown length, nothing is held back',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-unknown-length-open',
    file: RATE,
    guard: 'if gate then',
    mutation: 'if true then',
    why: 'past a window of unknown length, nothing is counted or held back',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-rollover-end',
    file: RATE,
    guard: '(math.floor((now - wend) / wms) + 1) * wms',
    mutation: 'math.floor((now - wend) / wms) * wms',
    why: 'a window rolled over by itself ends after now',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-urgent-reserve',
    file: RATE,
    guard: 'if not urgent then reserve =',
    mutation: 'if true then reserve =',
    why: 'an urgent call may use the reserve',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-allowance',
    file: RATE,
    guard: 'if ours >= allowance then',
    mutation: 'if ours > allowance then',
    why: 'we take the allowance, not one call more',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-urgent-not-paced',
    file: RATE,
    guard: 'if wms > 0 and not urgent and wend - now <= wms then',
    mutation: 'if wms > 0 and wend - now <= wms then',
    why: 'an urgent call is not paced',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-pace-far-end',
    file: RATE,
    guard: 'if wms > 0 and not urgent and wend - now <= wms then',
    mutation: 'if wms > 0 and not urgent then',
    why: 'a window ending later than its length is not paced as if it had not begun',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-pace-ahead',
    file: RATE,
    guard: '(now - (wend - wms) + wms / 10)',
    mutation: '(now - (wend - wms))',
    why: 'pacing runs a tenth of the window ahead (a call goes at its start)',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-paced',
    file: RATE,
    guard: 'if ours >= paced then',
    mutation: 'if ours > paced then',
    why: 'pacing lets through its share so far, not one call more',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-pace-wait-floor',
    file: RATE,
    guard: 'math.max(1, math.floor(wms / math.max(allowance, 1)))',
    mutation: 'math.floor(wms / math.max(allowance, 1))',
    why: 'a paced call waits at least 1 ms',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-headers',
    file: RATE,
    guard: "if ${LIMIT} ~= '' then",
    mutation: 'if true then',
    why: 'an answer without rate-limit headers says nothing of the window',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-new-window',
    file: RATE,
    guard: 'if not wend or reset > wend then',
    mutation: 'if not wend then',
    why: 'an answer with a later reset starts a new window',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-same-window',
    file: RATE,
    guard: 'if not wend or reset > wend then',
    mutation: 'if not wend or reset >= wend then',
    why: 'an answer about the current window keeps what we took of it',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-first',
    file: RATE,
    guard: '    if wend then\n',
    mutation: '    if true then\n',
    why: 'the first answer learns no window length',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-length-shorter',
    file: RATE,
    guard: 'if known == 0 or step < known then',
    mutation: 'if known == 0 then',
    why: "a shorter step between resets is the window's length",
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-length-longer',
    file: RATE,
    guard: 'if known == 0 or step < known then',
    mutation: 'if true then',
    why: 'a longer step (a window nobody called in) is not',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-this-window',
    file: RATE,
    guard: 'if reset == wend then',
    mutation: 'if true then',
    why: 'an answer about an older window changes nothing',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-used-max',
    file: RATE,
    guard: "used = math.max(tonumber(used or '0'), l - rem)",
    mutation: 'used = l - rem',
    why: 'the most used in a window is kept (answers read out of order)',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-others-window',
    file: RATE,
    guard: "if others > tonumber(seen or '0') then",
    mutation: 'if true then',
    why: 'the others seen in a window never shrink',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-others',
    file: RATE,
    guard: "if others > tonumber(redis.call('HGET', ${KEY}, '${RB.others}') or '0') then",
    mutation: 'if true then',
    why: "the room left to others (the last window's, if more) never shrinks within a window",
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'spend-budget-full',
    file: SPEND,
    guard: 'if n >= tonumber(ARGV[1]) then',
    mutation: 'if n > tonumber(ARGV[1]) then',
    why: 'the budget is full at its max',
    tests: GUARD_BUDGET_TESTS,
  },
  {
    id: 'spend-budget-stale-counter',
    file: SPEND,
    guard: 'if left > 0 then return left end',
    mutation: 'return left',
    why: 'a full counter left without an expiry starts afresh',
    tests: GUARD_BUDGET_TESTS,
  },
  {
    id: 'spend-budget-expiry-first',
    file: SPEND,
    guard: "if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end",
    mutation: "redis.call('INCR', KEYS[1])\nredis.call('PEXPIRE', KEYS[1], ARGV[2])",
    why: 'the counter expires from its first call, not its last',
    tests: GUARD_BUDGET_TESTS,
  },
  {
    id: 'spend-budget-expiry',
    file: SPEND,
    guard: "if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end",
    mutation: "redis.call('INCR', KEYS[1])",
    why: 'the counter expires',
    tests: GUARD_BUDGET_TESTS,
  },
];

const URGENT_TESTS = ['test/integration/breaker-urgent.test.ts'];

/** Issue 22 part 4: the breaker's intents never wait for a slot of the actions queue's limiter. */
const urgent: Guard[] = [
  {
    id: 'urgent-queue',
    file: 'src/queue/enqueue.ts',
    guard: '(isUrgentIntent(intent) ? urgent : jobs).push({',
    mutation: 'jobs.push({',
    why: "a breaker intent goes to the urgent queue: its call does not wait for the actions queue's limiter slot",
    tests: URGENT_TESTS,
    filter: 'before its next slot opens',
  },
  {
    id: 'urgent-paused',
    file: BEGIN,
    guard:
      "if ARGV[10] ~= '' and tonumber(redis.call('GET', KEYS[8]) or '0') > tonumber(ARGV[10]) then",
    mutation: 'if false then',
    why: 'an urgent run (no BullMQ limiter) waits while the actions queue is paused (429, refused key)',
    tests: URGENT_TESTS,
    filter: 'pause',
  },
];

const RETENTION = 'src/store/retention.ts';
const RETENTION_TESTS = ['test/integration/retention.test.ts'];
const GUARD_RETENTION_TESTS = ['test/integration/guards-retention.test.ts'];

const retention: Guard[] = [
  {
    id: 'retention-account-oldest-pending',
    file: RETENTION,
    guard: 'if oldest[2] and tonumber(oldest[2]) < limit then limit = tonumber(oldest[2]) end',
    mutation: '',
    why: 'an account recorded after the oldest intent still pending is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-account-before-pending',
    file: RETENTION,
    guard: 'if score and score < limit\n',
    mutation: 'if score and score <= limit\n',
    why: 'an account recorded in the same ms as the oldest pending intent is kept',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-account-held',
    file: RETENTION,
    guard: "    and redis.call('EXISTS', KEYS[k + 3]) == 0\n",
    mutation: '',
    why: 'an account with a hold is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-account-lease',
    file: RETENTION,
    guard: "    and redis.call('EXISTS', KEYS[k + 4]) == 0\n",
    mutation: '',
    why: 'an account with a lease (a call in flight) is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-account-order-moved',
    file: RETENTION,
    guard: "    and (redis.call('HGET', KEYS[k + 2], '${ORDER_KEY}') or '') == expected\n",
    mutation: '',
    why: 'an account that got a new intent after the sweep read its order is kept',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-account-newest-queued',
    file: RETENTION,
    guard:
      "\n    and (expected == '' or redis.call('HGET', KEYS[k + 5], '${B.state}') ~= 'queued') then",
    mutation: 'then',
    why: 'an account whose newest intent is still queued is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-breaker-cutoff',
    file: RETENTION,
    guard: 'if score and score < tonumber(ARGV[1]) and',
    mutation: 'if score and',
    why: 'a breaker that got a signal after the sweep read its page is kept',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-breaker-closed',
    file: RETENTION,
    guard: "(not state or state == 'closed')",
    mutation: 'true',
    why: 'an open (or half-open) breaker is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-breaker-never-tripped',
    file: RETENTION,
    guard: "(not state or state == 'closed')",
    mutation: "(state == 'closed')",
    why: 'a breaker that only counted signals (never tripped) goes too',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-breaker-pending-activation',
    file: RETENTION,
    guard: "state == 'closed') and not pending",
    mutation: "state == 'closed')",
    why: 'a closed breaker whose activation is not on the queue yet is kept',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-breaker-due',
    file: RETENTION,
    guard: "\n    and not redis.call('ZSCORE', KEYS[2], id) then",
    mutation: 'then',
    why: 'a breaker still due a step is kept',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-batch-finished',
    file: RETENTION,
    guard: "if finished and done == '1' and",
    mutation: "if done == '1' and",
    why: 'a batch that never finished is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-batch-undo-running',
    file: RETENTION,
    guard: "  local undoOver = undoState ~= 'running' and",
    mutation: '  local undoOver = true or',
    why: 'a finished batch is kept while its undo runs',
    tests: ['test/integration/batch-life.test.ts'],
    filter: 'running while',
  },
  {
    id: 'retention-batch-undo-hash',
    file: RETENTION,
    guard: "redis.call('DEL', BATCH, ACCOUNTS, UNDO)",
    mutation: "redis.call('DEL', BATCH, ACCOUNTS)",
    why: "a removed batch's undo hash goes with it",
    tests: ['test/integration/batch-life.test.ts'],
    filter: 'running while',
  },
  {
    id: 'retention-batch-finished-before-cutoff',
    file: RETENTION,
    guard: 'and tonumber(finished) < tonumber(ARGV[1]) and undoOver then',
    mutation: 'and undoOver then',
    why: 'a batch started long ago but finished recently is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-occurrence-ended',
    file: RETENTION,
    guard: "if state == 'ended' or state == 'skipped' or not state then",
    mutation: "if state == 'skipped' or not state then",
    why: 'an ended occurrence older than the newest kept goes',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-occurrence-skipped',
    file: RETENTION,
    guard: "if state == 'ended' or state == 'skipped' or not state then",
    mutation: "if state == 'ended' or not state then",
    why: 'a skipped occurrence older than the newest kept goes',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-occurrence-running',
    file: RETENTION,
    guard: "if state == 'ended' or state == 'skipped' or not state then",
    mutation: 'if true then',
    why: 'an occurrence still starting or started is kept',
    tests: RETENTION_TESTS,
    filter: 'the retention sweep',
  },
  {
    id: 'retention-occurrence-missing',
    file: RETENTION,
    guard: "if state == 'ended' or state == 'skipped' or not state then",
    mutation: "if state == 'ended' or state == 'skipped' then",
    why: 'an index entry whose occurrence record is gone goes',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-account-gone',
    file: RETENTION,
    guard: 'if score and score < limit\n',
    mutation: 'if score < limit\n',
    why: 'an account another sweep removed after this one read its page is stepped over',
    tests: GUARD_RETENTION_TESTS,
  },
  {
    id: 'retention-breaker-gone',
    file: RETENTION,
    guard: 'if score and score < tonumber(ARGV[1]) and',
    mutation: 'if score < tonumber(ARGV[1]) and',
    why: 'a breaker another sweep removed after this one read its page is stepped over',
    tests: GUARD_RETENTION_TESTS,
  },
];

// The by-line sweep of the Lua conditions and defaults (issue 19 §4): what the entries above
// did not name on their own.
const luaSweep: Guard[] = [
  {
    id: 'inbox-append-empty-only',
    file: INBOX_APPEND,
    guard: 'if len == 0 then',
    mutation: 'if true then',
    why: 'the bytes counter of an inbox that holds entries is kept (only an empty one holds none)',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-id-less-ms',
    file: INBOX_TRIM,
    guard: 'if am ~= bm then return am < bm end',
    mutation: '',
    why: 'stream ids compare by time first: a later entry with a lower sequence is still later',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-id-less-strict',
    file: INBOX_TRIM,
    guard: 'return as < bs',
    mutation: 'return as <= bs',
    why: 'an id is not before itself: the first pending entry is not processed',
    tests: INBOX_TESTS,
  },
  {
    id: 'inbox-repair-kept',
    file: INBOX_TRIM,
    guard: "if lag and g['entries-read'] then",
    mutation: 'if false then',
    why: 'a lag left by trimmed unread entries is set right in the group, not only in one answer',
    tests: ['test/integration/webhook-inbox.test.ts'],
    filter: 'sets right the backlog an older version left',
  },
  {
    id: 'record-batch-own-intent',
    file: RECORD,
    guard: "if ARGV[12] == '1' and redis.call('HGET', KEYS[9], provider) == '' then",
    mutation: "if ARGV[12] == '1' then",
    why: "only the batch's own intent closes an account of it, not another with the same ref",
    tests: [...GUARD_BATCH_TESTS, 'test/integration/bulk.test.ts'],
  },
  {
    id: 'record-status-seq-default',
    file: RECORD,
    guard: "tonumber(statusSeq or '0')",
    mutation: 'tonumber(statusSeq)',
    why: 'an account part recorded by a read (no intent number) is overwritten by an answer as new',
    tests: RECORD_TESTS,
  },
  {
    id: 'rate-budget-length-default',
    file: RATE,
    guard: "wend, wms = tonumber(wend), tonumber(wms or '0')",
    mutation: 'wend, wms = tonumber(wend), tonumber(wms)',
    why: 'a window whose length is not learnt yet still gates calls',
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'rate-budget-observe-length-default',
    file: RATE,
    guard: "tonumber(redis.call('HGET', ${KEY}, '${RB.windowMs}') or '0')",
    mutation: "tonumber(redis.call('HGET', ${KEY}, '${RB.windowMs}'))",
    why: "the first new window learns the window's length",
    tests: BUDGET_TESTS,
    filter: 'rate budget',
  },
  {
    id: 'spend-budget-first',
    file: SPEND,
    guard: "tonumber(redis.call('GET', KEYS[1]) or '0')",
    mutation: "tonumber(redis.call('GET', KEYS[1]))",
    why: 'the first spend of a period has the whole budget',
    tests: GUARD_BUDGET_TESTS,
  },
  {
    id: 'batch-finish-none-done',
    file: BATCH,
    guard: '(tonumber(b[3]) or 0) >=',
    mutation: 'tonumber(b[3]) >=',
    why: 'a batch whose enqueue ends before any account is done (or with none) still finishes',
    tests: [...GUARD_BATCH_TESTS, 'test/integration/bulk.test.ts'],
  },
  ...(['delivered', 'hard', 'soft', 'complained', 'rejected'] as const).map((count, i): Guard => ({
    id: `breaker-window-no-${count}`,
    file: STATE,
    guard: `${count} = ${count} + (tonumber(c[${i + 1}]) or 0)`,
    mutation: `${count} = ${count} + tonumber(c[${i + 1}])`,
    why: `a minute without a ${count} count counts 0 of them`,
    tests: GUARD_TRIP_TESTS,
  })),
  {
    id: 'known-target-none',
    file: KNOWN,
    guard: 'if not key then return false end',
    mutation: '',
    why: 'an account with no lease holder has no intent running',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-recorded-not-object',
    file: KNOWN,
    guard: "if not ok or type(a) ~= 'table' then return 'unknown' end",
    mutation: '',
    why: 'a recorded account part that is not an account object says nothing of the account',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-observe-shown-untimed',
    file: KNOWN,
    guard: "if shown and shown ~= '' and",
    mutation: 'if shown and',
    why: 'a timed read is written over a recorded read that did not say when it was from',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-claim-unbound',
    file: KNOWN,
    guard: 'if h[1] and h[1] ~= fp and',
    mutation: 'if h[1] ~= fp and',
    why: 'a key bound to nothing is bound, not a conflict',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-keys-hold-no-intent',
    file: KNOWN,
    guard: 'if newest and not sdxKeySet',
    mutation: 'if not sdxKeySet',
    why: 'an account that never had an intent has no binding to declare',
    tests: GUARD_HOLDS_TESTS,
  },
  {
    id: 'known-keys-hold-no-lease',
    file: KNOWN,
    guard: 'if lease and not sdxKeySet',
    mutation: 'if not sdxKeySet',
    why: 'an account nobody holds the lease of has no lease binding to declare',
    tests: GUARD_HOLDS_TESTS,
  },
];

const PAGINATION = 'src/sendmux/pagination.ts';
const listing: Guard[] = [
  {
    id: 'listing-cursor-repeats',
    file: PAGINATION,
    guard: 'if (first !== undefined) {',
    mutation: 'if (first !== undefined && first < 0) {',
    why: 'a listing whose API repeats a cursor stops with invalid_pagination instead of looping for ever',
    tests: ['test/e2e/listing-loop.test.ts'],
    filter: 'repeats a cursor',
  },
  {
    id: 'listing-max-pages',
    file: PAGINATION,
    guard: 'if (this.pages >= this.maxPages) {',
    mutation: 'if (this.pages > this.maxPages * 1000) {',
    why: 'a listing stops once it has read more pages than any team holds',
    tests: ['test/e2e/listing-loop.test.ts'],
    filter: 'past the most',
  },
];

const MODES_TESTS = ['test/integration/breaker-modes.test.ts'];
const MODES_HTTP_TESTS = ['test/integration/breaker-modes-http.test.ts'];

/** Issue 22: modes and warning levels in the trip step, and the silence of watching. */
const breakerModes: Guard[] = [
  {
    id: 'breaker-mode-only-act-trips',
    file: TRIP,
    guard: "if level == 'warn' or mode ~= 'act' then",
    mutation: "if level == 'warn' then",
    why: 'a crossing of the trip level in mode warn or watch says would_trip and never trips',
    tests: MODES_TESTS,
  },
  {
    id: 'breaker-mode-once-per-window',
    file: TRIP,
    guard: "if last and now - last < windowS * 1000 then return {'counted'} end",
    mutation: '',
    why: 'breaker.warned and breaker.would_trip are said at most once per window',
    tests: MODES_TESTS,
  },
  {
    id: 'breaker-mode-warn-level',
    file: TRIP,
    guard: "reason, level = crossed(ARGV[22], ARGV[23]), 'warn'",
    mutation: "reason, level = false, 'warn'",
    why: 'a crossing of a warning level says breaker.warned',
    tests: MODES_TESTS,
  },
  {
    id: 'breaker-mode-account-settings-first',
    file: TRIP,
    guard: "if ARGV[24] ~= '' then mode = ARGV[24] else",
    mutation: 'if false then mode = ARGV[24] else',
    why: "an account's own mode in the settings comes before the run-time default",
    tests: MODES_TESTS,
  },
  {
    id: 'breaker-mode-runtime-account',
    file: TRIP,
    guard: "  mode = redis.call('HGET', KEYS[8], id)",
    mutation: '  mode = false',
    why: "an account's run-time mode comes first",
    tests: MODES_TESTS,
  },
  {
    id: 'breaker-mode-manual-acts',
    file: TRIP,
    guard: "local mode = 'act'\nif ARGV[12] ~= '1' then",
    mutation: "local mode = 'act'\nif true then",
    why: 'a manual trip acts whatever the mode',
    tests: MODES_TESTS,
  },
  {
    id: 'notify-watch-silent',
    file: 'src/notify/cloudevent.ts',
    guard: "event.mode === 'watch'",
    mutation: "event.mode === 'none'",
    why: 'warnings said while watching are never notified',
    tests: MODES_HTTP_TESTS,
    filter: 'watch:',
  },
];

export const GUARDS: readonly Guard[] = [
  ...policy,
  ...record,
  ...countWait,
  ...windowOccurrence,
  ...inbox,
  ...claimKeys,
  ...beginRun,
  ...holds,
  ...knownState,
  ...small,
  ...breaker,
  ...breakerRelease,
  ...tripCount,
  ...holdBranches,
  ...keyChecks,
  ...scriptCheck,
  ...batchRecord,
  ...budgets,
  ...urgent,
  ...retention,
  ...luaSweep,
  ...listing,
  ...breakerModes,
];
