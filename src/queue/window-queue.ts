/**
 * The windows queue: the timed steps of maintenance windows as BullMQ jobs. A one-off window's
 * start is one delayed job; a recurring window is a BullMQ job scheduler (the v6 API:
 * `upsertJobScheduler` with a cron pattern and a time zone), which adds each occurrence's
 * start job when it falls due; each start adds its occurrence's end as a delayed job. These
 * jobs carry ids, never intents: the intents are made when a step runs, so no idempotency
 * binding has to outlive weeks of waiting.
 *
 * Job ids are derived (`start-<window>-<ms>`, `end-<window>-<occurrence>`): adding one twice is
 * a no-op while BullMQ keeps it; the steps themselves are idempotent for what slips past
 * (BullMQ's scheduler may add an occurrence twice when upserts race).
 */
import { Job, Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { WINDOW_QUEUE_NAME } from '../store/keys.js';
import { bullmqTelemetry } from '../telemetry/bullmq.js';

export type WindowJobData =
  /** An occurrence's start; `startsMs` is absent on a job scheduler's jobs (see the job id). */
  | { step: 'start'; windowId: string; startsMs?: number }
  | { step: 'end'; windowId: string; occurrence: string };

export type WindowQueue = Queue<WindowJobData>;

/** A failing step (the API down while reading accounts) is tried again every 5 s until it
 * works or its occurrence is over (the step then skips or ends). */
const STEP_OPTIONS: JobsOptions = {
  attempts: 100_000,
  backoff: { type: 'fixed', delay: 5_000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 1000 },
};

export function createWindowQueue(prefix: string, connection: ConnectionOptions): WindowQueue {
  return new Queue<WindowJobData>(WINDOW_QUEUE_NAME, {
    connection,
    prefix,
    ...bullmqTelemetry(),
  });
}

const schedulerId = (windowId: string) => `window-${windowId}`;
const startJobId = (windowId: string, startMs: number) => `start-${windowId}-${startMs}`;
const endJobId = (windowId: string, occurrence: string) => `end-${windowId}-${occurrence}`;
/** The id BullMQ gives a job scheduler's job (`repeat:<scheduler id>:<ms>`, BullMQ 5.x/6.x). */
const schedulerJobId = (windowId: string, startMs: number) =>
  `repeat:${schedulerId(windowId)}:${startMs}`;

/** When a start job's occurrence begins: its data, or the time in a scheduler job's id. */
export function occurrenceStart(job: Pick<Job<WindowJobData>, 'id' | 'data' | 'opts'>): number {
  if (job.data.step === 'start' && job.data.startsMs !== undefined) return job.data.startsMs;
  const fromId = Number((job.id ?? '').split(':').pop());
  if (Number.isSafeInteger(fromId) && fromId > 0) return fromId;
  const prev = (job.opts as { prevMillis?: number }).prevMillis;
  if (prev !== undefined) return prev;
  throw new Error(`window job ${job.id ?? '?'} does not say when its occurrence starts`);
}

/** What the windows producer asks of the queue. */
export interface WindowScheduler {
  /** A one-off window's start (delayed until `startMs`; at once if it is past). */
  scheduleStart(windowId: string, startMs: number): Promise<void>;
  /** A recurring window: a job scheduler firing at each occurrence of `cron` in `tz`. */
  scheduleRecurring(windowId: string, cron: string, tz: string): Promise<void>;
  hasRecurring(windowId: string): Promise<boolean>;
  /** No more starts: the scheduler and a one-off start job (not yet running) are removed. */
  unschedule(windowId: string, startMs?: number): Promise<void>;
  /** An occurrence's end at `endMs` (at once if it is past); moved if it is already there. */
  scheduleEnd(windowId: string, occurrence: string, endMs: number): Promise<void>;
  /** Whether a start step of the window is running now. */
  startRunning(windowId: string): Promise<boolean>;
  /**
   * A deleted window's jobs, kept finished for inspection or due: the start of a one-off
   * window (`startMs`), and the start (`recurring`) and end jobs of each occurrence (their
   * start times, ms, and ids). A job running now is left to finish.
   */
  forget(
    windowId: string,
    jobs: {
      startMs?: number | undefined;
      recurring: boolean;
      occurrences: { id: string; startsMs: number }[];
    },
  ): Promise<void>;
}

export function windowScheduler(queue: WindowQueue, now = () => Date.now()): WindowScheduler {
  const delayUntil = (ms: number) => Math.max(0, ms - now());
  return {
    async scheduleStart(windowId, startMs) {
      await queue.add(
        'start',
        { step: 'start', windowId, startsMs: startMs },
        { ...STEP_OPTIONS, jobId: startJobId(windowId, startMs), delay: delayUntil(startMs) },
      );
    },
    async scheduleRecurring(windowId, cron, tz) {
      await queue.upsertJobScheduler(
        schedulerId(windowId),
        { pattern: cron, tz },
        { name: 'start', data: { step: 'start', windowId }, opts: STEP_OPTIONS },
      );
    },
    async hasRecurring(windowId) {
      return (await queue.getJobScheduler(schedulerId(windowId))) !== undefined;
    },
    async unschedule(windowId, startMs) {
      await queue.removeJobScheduler(schedulerId(windowId));
      if (startMs !== undefined) {
        const job = await Job.fromId(queue, startJobId(windowId, startMs));
        // A start already running finishes; it reads the window's state and ends at once.
        if (job && (await job.isDelayed())) await job.remove().catch(() => undefined);
      }
    },
    async scheduleEnd(windowId, occurrence, endMs) {
      const id = endJobId(windowId, occurrence);
      const existing = await Job.fromId<WindowJobData>(queue, id);
      if (existing && (await existing.isDelayed())) {
        await existing.changeDelay(delayUntil(endMs));
        return;
      }
      if (existing && (await existing.isActive())) return; // ending now
      await existing?.remove().catch(() => undefined); // a finished one (kept for inspection)
      await queue.add(
        'end',
        { step: 'end', windowId, occurrence },
        { ...STEP_OPTIONS, jobId: id, delay: delayUntil(endMs) },
      );
    },
    async startRunning(windowId) {
      const active = await queue.getActive();
      return active.some((j) => j.data.step === 'start' && j.data.windowId === windowId);
    },
    async forget(windowId, jobs) {
      const ids = jobs.occurrences.flatMap((o) => [
        endJobId(windowId, o.id),
        ...(jobs.recurring ? [schedulerJobId(windowId, o.startsMs)] : []),
      ]);
      if (jobs.startMs !== undefined) ids.push(startJobId(windowId, jobs.startMs));
      for (const id of ids) {
        const job = await Job.fromId(queue, id);
        if (job && !(await job.isActive())) await job.remove().catch(() => undefined);
      }
    },
  };
}
