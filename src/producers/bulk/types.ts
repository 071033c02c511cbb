/** A bulk run's options, what it needs, and what one pass answers (run.ts). */
import type { Action } from '../../model.js';
import type { Producer } from '../../queue/enqueue.js';
import type { RedisClient as Redis } from '../../redis/connect.js';
import type { Keys } from '../../store/keys.js';
import type { RecordSettings } from '../../store/record-outcome.js';
import type { AccountReader } from '../account-states.js';
import type { AccountLister } from './accounts.js';
import type { BulkSource } from './input.js';

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
  /**
   * Who runs it (model/actor.ts): its intents and holds say so, and a new batch records it
   * (`created_by`).
   */
  actor?: string;
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
