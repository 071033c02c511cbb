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
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Redis } from 'ioredis';
import { InvalidInputError, UsageError } from '../../errors.js';
import type { Action, IntentInput } from '../../model.js';
import type { Producer } from '../../queue/producer.js';
import {
  addToBatch,
  BATCH_ID_RULE,
  BATCH_ID_RULE_TEXT,
  endBatchPass,
  openBatch,
} from '../../store/batch-record.js';
import type { Keys } from '../../store/keys.js';
import { listIdLines, readIdLines, type IdLine } from './ids.js';

export type BulkSource =
  /** A file path; `-` reads standard input. */
  | { kind: 'file'; path: string }
  /** Any text stream (one id per line or CSV), e.g. an upload. */
  | { kind: 'stream'; input: Readable; name: string }
  | { kind: 'ids'; ids: readonly string[] };

export interface BulkRunOptions {
  source: BulkSource;
  /** @defaultValue 'deactivate' */
  action?: Action;
  /** Resume this batch, or name a new one. Default: a generated id. */
  batchId?: string;
  /** Enqueue the valid ids even if some lines are invalid. */
  skipInvalid?: boolean;
  /** Recorded with every intent. Default: `bulk run <batch id>`. */
  reason?: string;
  /** Ids per round trip (batch record + claim + addBulk). @defaultValue 1000 */
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
  /** Where the ids came from, as shown to users. */
  input: string;
}

export interface BulkDeps {
  producer: Producer;
  redis: Redis;
  keys: Keys;
}

/** Invalid lines reported by name; the rest are counted. */
const PROBLEMS_SHOWN = 20;

/** A new batch id: sortable by time, unique enough to never meet another. */
export function newBatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `bulk-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The idempotency key of an account's intent in a batch. */
export function bulkKey(batchId: string, providerId: string): string {
  return `bulk:${batchId}:${providerId}`;
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
  const chunkSize = Math.max(1, options.chunkSize ?? 1000);
  const input = await openInput(options.source);
  try {
    // Pass 1: every line checked, nothing enqueued.
    let valid = 0;
    let invalid = 0;
    const problems: string[] = [];
    for await (const l of input.lines()) {
      if (l.problem === undefined) {
        valid++;
      } else {
        invalid++;
        if (problems.length < PROBLEMS_SHOWN) problems.push(l.problem);
      }
    }
    if (invalid > 0 && !options.skipInvalid) {
      throw new InvalidInputError(input.name, invalid, problems);
    }
    if (valid === 0) throw new UsageError(`${input.name}: no account ids`);

    // Pass 2: into the batch, then onto the queue, a chunk at a time.
    const opened = await openBatch(deps.redis, deps.keys, {
      id: batchId,
      action,
      source: input.name,
      reason: options.reason ?? '',
    });
    if (!opened.ok) {
      throw new UsageError(
        `--batch-id: batch ${batchId} is a ${opened.existingAction} run; it cannot ${action}`,
      );
    }
    const counts: BulkPassCounts = {
      read: 0,
      enqueued: 0,
      resumed: 0,
      alreadyDone: 0,
      duplicates: 0,
    };
    const reason = options.reason ?? `bulk run ${batchId}`;
    let chunk: string[] = [];
    const flush = async () => {
      const ids = chunk;
      chunk = [];
      const added = await addToBatch(deps.redis, deps.keys, batchId, opened.pass, ids);
      const intents: IntentInput[] = [];
      ids.forEach((providerId, i) => {
        const a = added[i];
        if (a === 'repeat') counts.duplicates++;
        else if (a === 'done') counts.alreadyDone++;
        else {
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
        const results = await deps.producer.enqueueMany(intents, { chunkSize });
        for (const r of results) {
          if (r.status === 'enqueued') counts.enqueued++;
          else counts.resumed++;
        }
      }
      options.onChunk?.({ ...counts });
    };
    for await (const l of input.lines()) {
      if (l.id === undefined) continue;
      counts.read++;
      chunk.push(l.id);
      if (chunk.length >= chunkSize) await flush();
    }
    if (chunk.length > 0) await flush();
    await endBatchPass(deps.redis, deps.keys, batchId, opened.pass, {
      invalid,
      duplicates: counts.duplicates,
      skipped: 0,
    });
    return { batchId, action, pass: opened.pass, invalid, problems, input: input.name, ...counts };
  } finally {
    await input.close();
  }
}

interface Input {
  name: string;
  /** A fresh reading of the input from its start. */
  lines(): AsyncIterable<IdLine>;
  close(): Promise<void>;
}

async function openInput(source: BulkSource): Promise<Input> {
  switch (source.kind) {
    case 'ids':
      return {
        name: '--ids',
        // eslint-disable-next-line @typescript-eslint/require-await -- an async view of a list
        lines: async function* () {
          yield* listIdLines(source.ids);
        },
        close: async () => {},
      };
    case 'file':
      if (source.path !== '-') {
        const name = `--file ${source.path}`;
        return {
          name,
          lines: () => readIdLines(readable(source.path), name),
          close: async () => {},
        };
      }
      return spooled(process.stdin, 'stdin (--file -)');
    case 'stream':
      return spooled(source.input, source.name);
  }
}

function readable(path: string): Readable {
  const stream = createReadStream(path);
  // An unreadable file fails the run with a usage error that names it.
  const out = new PassThrough();
  stream.on('error', (err: NodeJS.ErrnoException) => {
    out.destroy(new UsageError(`--file ${path}: cannot read it (${err.code ?? err.message})`));
  });
  return stream.pipe(out);
}

/** A stream can be read once: the first reading copies it to a temporary file. */
async function spooled(stream: Readable, name: string): Promise<Input> {
  const dir = await mkdtemp(join(tmpdir(), 'sdx-bulk-'));
  const path = join(dir, 'input');
  let copied = false;
  return {
    name,
    async *lines() {
      if (copied) {
        yield* readIdLines(createReadStream(path), name);
        return;
      }
      const copy = createWriteStream(path);
      const tee = new PassThrough();
      stream.pipe(tee);
      tee.pipe(copy);
      yield* readIdLines(tee, name);
      await finished(copy);
      copied = true;
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
