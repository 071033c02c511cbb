/**
 * A bulk run: many accounts, one action, one batch. Makes intents (source `bulk`,
 * `source_ref` = the batch id, key `bulk:<batch>:<account>`) and hands them to the queue in
 * chunks; the batch record (store/batch-record.ts) counts what happens to them.
 *
 * Two passes over the input, neither holding it in memory: the first checks every line (a run
 * with an invalid line enqueues nothing unless `skipInvalid`); the second enqueues. Standard
 * input is copied to a temporary file during the first pass so that it can be read twice.
 *
 * Running the same batch again resumes it: an account already in the batch keeps its key, so
 * its intent is never enqueued twice, and one that has its outcome is left alone for good.
 *
 * Holds (store/holds.ts): a deactivate run takes hold `bulk:<batch>` on each account it adds,
 * before the account's intent is enqueued (one step per chunk), recording with it what the
 * account is now: read once per pass, from the team's listing (or one by one for up to a
 * hundred ids, or from a `--filter` listing's own items). Without the API the hold's base is
 * what the project last recorded (`unknown` if nothing), and `batch undo` then cannot switch
 * such accounts back on (it says so). An activate run leaves out the accounts some source
 * holds off, counted as skipped.
 */
import { randomBytes } from 'node:crypto';
import { StateConflictError, UsageError } from '../../errors.js';
import { parseIntents, type Action, type IntentInput } from '../../model.js';
import type { Producer } from '../../queue/producer.js';
import type { RedisClient as Redis } from '../../redis.js';
import type { ProviderItem } from '../../sendmux/schemas.js';
import {
  addToBatch,
  BATCH_ID_RULE,
  BATCH_ID_RULE_TEXT,
  endBatchPass,
  openBatch,
} from '../../store/batch-record.js';
import { heldAmong } from '../../store/held-among.js';
import { readHolds, seenOf, takeHolds, type HoldTarget, type Seen } from '../../store/holds.js';
import type { Keys } from '../../store/keys.js';
import type { RecordSettings } from '../../store/record-outcome.js';
import { readAccounts, READ_ONE_BY_ONE, type AccountReader } from '../account-states.js';
import {
  isShared,
  sharedAccountIds,
  verdictOf,
  type AccountLister,
  type DryRunVerdict,
} from './accounts.js';
import { checkInput, openInput, PROBLEMS_SHOWN, type BulkSource, type Input } from './input.js';

export type { BulkSource };

export interface BulkRunOptions {
  source: BulkSource;
  /** @defaultValue 'deactivate' */
  action?: Action;
  /** Resume this batch, or name a new one. Default: a generated id. */
  batchId?: string;
  /** Enqueue the valid ids even if some lines are invalid. */
  skipInvalid?: boolean;
  /**
   * Include the team's shared account (Sendmux's Amazon SES). Off by default: it is left out
   * and counted as skipped, which needs the API (one short listing) unless this is set.
   */
  includeShared?: boolean;
  /** Recorded with every intent. Default: `bulk run <batch id>`. */
  reason?: string;
  /** Ids per round trip (batch record + claim + addBulk). @defaultValue 250 */
  chunkSize?: number;
  /** Called after each chunk is enqueued. */
  onChunk?: (progress: BulkPassCounts) => void;
}

export interface BulkPassCounts {
  /** Valid ids read so far in this pass (repeats included). */
  read: number;
  /** Accounts enqueued by this pass: new to the batch, or re-added after an interrupted pass. */
  enqueued: number;
  /** Accounts an earlier pass already enqueued (their intents are bound; nothing new runs). */
  resumed: number;
  /** Accounts that already have their outcome: left alone. */
  alreadyDone: number;
  /** Repeated ids in the input (asked for once). */
  duplicates: number;
  /** Left out on purpose (the shared account; in an activate run, accounts held off). */
  skipped: number;
  /** Of `skipped`: accounts an activate run left out because some source holds them off. */
  held: number;
}

export interface BulkPassResult extends BulkPassCounts {
  batchId: string;
  action: Action;
  /** 1 for a new batch; more when it was resumed. */
  pass: number;
  /** Invalid lines (only with `skipInvalid`; otherwise the run throws). */
  invalid: number;
  /** The first invalid lines, with their numbers. */
  problems: string[];
  /** The first accounts left out, with why. */
  skippedIds: string[];
  /** Where the ids came from, as shown to users. */
  input: string;
}

export interface BulkDeps {
  producer: Producer;
  redis: Redis;
  keys: Keys;
  /**
   * The API, read through the rate budget: for `filter`, the shared-account guard, dry runs,
   * and what a deactivate run's accounts are now (the team's listing, once per pass).
   */
  accounts?: AccountLister;
  /** Accounts one by one: a deactivate run of up to a hundred ids reads them so. */
  reader?: AccountReader;
  /** How outcomes are kept (an activate run closes an account a hold slipped in on). */
  outcomes: RecordSettings;
}

/**
 * Ids per chunk, and chunks of one pass in flight at once (each chunk is four round trips, so
 * several keep Redis busy while Node prepares the next). Measured with `bulk --file` on 100k
 * ids under GNU time: 1 x 1000 took 15.3 s, 2 x 1000 13.1 s, 3 x 500 9.2 s, 4 x 250 8.5 s
 * (an older, slower build); later, interleaved runs of the CLI with its heap policy
 * (cli/heap.ts), median of 5-6 each: 4 x 250 5.45 s, 8 x 250 5.18 s and 133-140 MiB peak RSS,
 * 12 x 250 no faster and 153 MiB.
 */
export const DEFAULT_CHUNK = 250;
const CHUNKS_IN_FLIGHT = 8;

/**
 * At most `limit` tasks at once: `add` resolves once there is room again; `drain` waits for the
 * rest. The first failure is thrown (by `add` or `drain`); the others are awaited, not lost.
 */
function boundedConcurrency(limit: number) {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  return {
    async add(task: Promise<void>): Promise<void> {
      const tracked: Promise<void> = task
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(tracked));
      running.add(tracked);
      if (running.size >= limit) await Promise.race(running);
      if (failure) {
        await Promise.all(running);
        throw failure.error;
      }
    },
    async drain(): Promise<void> {
      await Promise.all(running);
      if (failure) throw failure.error;
    },
  };
}

/** A new batch id: sortable by time, unique enough to never meet another. */
export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `bulk-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The idempotency key of an account's intent in a batch. */
export function bulkKey(batchId: string, providerId: string): string {
  return `bulk:${batchId}:${providerId}`;
}

/** The hold a deactivate run takes on each of its accounts. */
export function bulkHoldId(batchId: string): string {
  return `bulk:${batchId}`;
}

/** Run one pass of a bulk run: check the input, then enqueue what it names. */
export async function runBulkPass(
  deps: BulkDeps,
  options: BulkRunOptions,
): Promise<BulkPassResult> {
  const action = options.action ?? 'deactivate';
  const batchId = options.batchId ?? newBatchId();
  if (!BATCH_ID_RULE.test(batchId)) {
    throw new UsageError(`--batch-id: "${batchId}" ${BATCH_ID_RULE_TEXT}`);
  }
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK);
  const input = await openInput(options.source, deps.accounts);
  try {
    const { invalid, problems, valid } = await checkInput(input, options.skipInvalid ?? false);
    const reason = options.reason ?? `bulk run ${batchId}`;
    // Checked before anything is written (each intent is checked again when enqueued).
    parseIntents([
      {
        action,
        providerId: 'dprov_check',
        idempotencyKey: bulkKey(batchId, 'dprov_check'),
        source: 'bulk',
        sourceRef: batchId,
        reason,
      },
    ]);
    const { shared, seen } =
      action === 'deactivate' && !input.fromApi && (deps.accounts || deps.reader)
        ? await readTeamView(deps, options, input, valid)
        : { shared: await sharedGuard(deps, options), seen: undefined };

    // Pass 2: into the batch, then onto the queue, a chunk at a time.
    const opened = await openBatch(deps.redis, deps.keys, {
      id: batchId,
      action,
      source: input.name,
      reason: options.reason ?? '',
    });
    if (!opened.ok) {
      throw new StateConflictError(
        `--batch-id: batch ${batchId} is a ${opened.existingAction} run; it cannot ${action}`,
      );
    }
    const counts: BulkPassCounts = {
      read: 0,
      enqueued: 0,
      resumed: 0,
      alreadyDone: 0,
      duplicates: 0,
      skipped: 0,
      held: 0,
    };
    const skippedIds: string[] = [];
    const hold = { id: bulkHoldId(batchId), source: 'bulk' as const, ref: batchId, reason };
    let chunk: HoldTarget[] = [];
    // Chunks overlap (the next is read and sent while Redis works on the previous ones): a
    // chunk's ids are all distinct from the others' (repeats are caught per pass in Redis), so
    // the order between chunks does not matter; within one, it is kept.
    const inFlight = boundedConcurrency(CHUNKS_IN_FLIGHT);
    const flush = async (targets: HoldTarget[]) => {
      if (action === 'activate') targets = await leaveOutHeld(targets);
      const ids = targets.map((t) => t.providerId);
      const added = await addToBatch(deps.redis, deps.keys, batchId, opened.pass, ids);
      const intents: IntentInput[] = [];
      const holding: HoldTarget[] = [];
      targets.forEach((target, i) => {
        const { providerId } = target;
        const a = added[i];
        if (a === 'repeat') counts.duplicates++;
        else if (a === 'done') counts.alreadyDone++;
        else {
          holding.push(target);
          intents.push({
            action,
            providerId,
            idempotencyKey: bulkKey(batchId, providerId),
            source: 'bulk',
            sourceRef: batchId,
            reason,
          });
        }
      });
      if (intents.length > 0) {
        // The holds first: a crash between leaves holds whose intents a resume enqueues.
        if (action === 'deactivate') await takeHolds(deps.redis, deps.keys, holding, hold);
        const results = await deps.producer.enqueueMany(intents, { chunkSize });
        const heldNow: IntentInput[] = [];
        results.forEach((r, i) => {
          if (r.status === 'enqueued') counts.enqueued++;
          else if (r.status === 'held') heldNow.push(intents[i] as IntentInput);
          else counts.resumed++;
        });
        if (heldNow.length > 0) {
          counts.skipped += heldNow.length;
          counts.held += heldNow.length;
          await endHeld(deps, heldNow);
        }
      }
      options.onChunk?.({ ...counts });
    };
    /** An activate run leaves out the accounts some source still holds off. */
    const leaveOutHeld = async (targets: HoldTarget[]): Promise<HoldTarget[]> => {
      const held = await heldAmong(
        deps.redis,
        deps.keys,
        targets.map((t) => t.providerId),
      );
      const kept: HoldTarget[] = [];
      const named: string[] = [];
      targets.forEach((t, i) => {
        if (!held[i]) {
          kept.push(t);
          return;
        }
        counts.skipped++;
        counts.held++;
        if (skippedIds.length + named.length < PROBLEMS_SHOWN) named.push(t.providerId);
      });
      for (const id of named) {
        const { holds } = await readHolds(deps.redis, deps.keys, id);
        const by = holds.map((h) => h.id).sort();
        if (by.length > 0 && skippedIds.length < PROBLEMS_SHOWN) {
          skippedIds.push(`${id}: held by ${by.join(', ')}`);
        }
      }
      return kept;
    };
    for await (const batch of input.lines()) {
      for (const l of batch) {
        if (l.id === undefined) continue;
        counts.read++;
        if (shared && (l.item ? isShared(l.item) : shared.has(l.id))) {
          counts.skipped++;
          if (skippedIds.length < PROBLEMS_SHOWN) skippedIds.push(`${l.id}: the shared account`);
          continue;
        }
        chunk.push({ providerId: l.id, seen: l.item ? seenOf(l.item) : seen?.get(l.id) });
        if (chunk.length >= chunkSize) {
          await inFlight.add(flush(chunk));
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) await inFlight.add(flush(chunk));
    await inFlight.drain();
    await endBatchPass(deps.redis, deps.keys, batchId, opened.pass, {
      invalid,
      duplicates: counts.duplicates,
      skipped: counts.skipped,
    });
    return {
      batchId,
      action,
      pass: opened.pass,
      invalid,
      problems,
      skippedIds,
      input: input.name,
      ...counts,
    };
  } finally {
    await input.close();
  }
}

/**
 * Activations a hold slipped in on after the run's held check (claim-keys.ts bound nothing):
 * each ends superseded by the hold, which closes the account in the batch. The outcome
 * recorder is loaded only then: a bulk run otherwise loads none, nor prom-client with it.
 */
async function endHeld(deps: BulkDeps, intents: readonly IntentInput[]): Promise<void> {
  const { recordOutcome } = await import('../../store/record-outcome.js');
  for (const intent of intents) {
    await recordOutcome(
      deps.redis,
      deps.keys,
      deps.outcomes,
      {
        intent: { ...intent, reason: intent.reason ?? '' },
        seq: 0,
        jobId: '',
        attempts: 0,
        at: new Date(),
        outcome: 'superseded',
        by: 'hold',
      },
      undefined,
      { bindIfMissing: true },
    );
  }
}

/**
 * A deactivate run with the API, before its pass: what each account is now (its hold's
 * `before`) and, unless they are included, the shared accounts to leave out, from one read:
 * the ids one by one when there are at most {@link READ_ONE_BY_ONE} of them (and a reader),
 * else the team's listing (one call per hundred accounts of the team). Accounts the API does
 * not know are left out of the map (`unknown`).
 */
async function readTeamView(
  deps: BulkDeps,
  options: Pick<BulkRunOptions, 'includeShared'>,
  input: Input,
  valid: number | undefined,
): Promise<{ shared: Set<string> | undefined; seen: Map<string, Seen> }> {
  const seen = new Map<string, Seen>();
  const shared = new Set<string>();
  const note = (item: ProviderItem) => {
    seen.set(item.id, seenOf(item));
    if (isShared(item)) shared.add(item.id);
  };
  if (deps.reader && valid !== undefined && valid <= READ_ONE_BY_ONE) {
    const ids = new Set<string>();
    for await (const batch of input.lines()) for (const l of batch) if (l.id) ids.add(l.id);
    for (const item of (await readAccounts(deps.reader, [...ids])).values()) {
      if (item) note(item);
    }
  } else if (deps.accounts) {
    for await (const item of deps.accounts.list({})) note(item);
  } else if (deps.reader) {
    for await (const item of deps.reader.list()) note(item);
  }
  return { shared: options.includeShared ? undefined : shared, seen };
}

/** The shared accounts' ids to leave out; undefined when they are included. */
async function sharedGuard(
  deps: BulkDeps,
  options: Pick<BulkRunOptions, 'includeShared' | 'source'>,
): Promise<Set<string> | undefined> {
  if (options.includeShared) return undefined;
  // A listing says, account by account, which one is shared.
  if (options.source.kind === 'filter') return new Set();
  if (!deps.accounts) {
    throw new UsageError(
      'bulk: keeping the shared account out needs the API (SENDMUX_API_KEY) to find it; --include-shared skips the check',
    );
  }
  return sharedAccountIds(deps.accounts);
}

export interface DryRunReport {
  batchId: string;
  action: Action;
  input: string;
  /** Valid ids read (repeats included). */
  read: number;
  /** Accounts a run would enqueue. */
  wouldEnqueue: number;
  /** Already in the asked state (inactive for deactivate, active for activate). */
  already: string[];
  /** The API says the action is not allowed on them (`allowed_actions`). */
  notAllowed: string[];
  /** The shared account, left out without --include-shared. */
  shared: string[];
  /** Not among the team's accounts. */
  unknown: string[];
  invalid: number;
  problems: string[];
  duplicates: number;
}

/**
 * What a run would do, from the API's view of each account; enqueues nothing and writes no
 * batch. Reads the team's accounts once (a listing, through the rate budget), or the filter's.
 */
export async function dryRunBulk(
  deps: Pick<BulkDeps, 'accounts'>,
  options: BulkRunOptions,
): Promise<DryRunReport> {
  const action = options.action ?? 'deactivate';
  const batchId = options.batchId ?? newBatchId();
  if (!BATCH_ID_RULE.test(batchId)) {
    throw new UsageError(`--batch-id: "${batchId}" ${BATCH_ID_RULE_TEXT}`);
  }
  if (!deps.accounts) throw new UsageError('--dry-run: needs the API (SENDMUX_API_KEY)');
  const input = await openInput(options.source, deps.accounts);
  try {
    const { invalid, problems } = await checkInput(input, true);
    // Only what a verdict needs, per account of the team (not kept for a filter: each line has it).
    type Known = Pick<ProviderItem, 'status' | 'is_shared' | 'type' | 'allowed_actions'>;
    const known = new Map<string, Known>();
    if (!input.fromApi) {
      for await (const item of deps.accounts.list({})) {
        known.set(item.id, {
          status: item.status,
          is_shared: item.is_shared,
          type: item.type,
          allowed_actions: item.allowed_actions,
        });
      }
    }
    const report: DryRunReport = {
      batchId,
      action,
      input: input.name,
      read: 0,
      wouldEnqueue: 0,
      already: [],
      notAllowed: [],
      shared: [],
      unknown: [],
      invalid,
      problems,
      duplicates: 0,
    };
    const lists: Record<Exclude<DryRunVerdict, 'would_enqueue'>, string[]> = {
      already: report.already,
      not_allowed: report.notAllowed,
      shared: report.shared,
      unknown: report.unknown,
    };
    const seen = new Set<string>();
    for await (const batch of input.lines()) {
      for (const l of batch) {
        if (l.id === undefined) continue;
        report.read++;
        if (seen.has(l.id)) {
          report.duplicates++;
          continue;
        }
        seen.add(l.id);
        const includeShared = options.includeShared ?? false;
        const verdict = verdictOf(action, l.item ?? known.get(l.id), includeShared);
        if (verdict === 'would_enqueue') report.wouldEnqueue++;
        else lists[verdict].push(l.id);
      }
    }
    return report;
  } finally {
    await input.close();
  }
}
