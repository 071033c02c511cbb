/**
 * The model test's commands, each an {@link Op}: what it is (its label, printed in a failing
 * sequence) and how it runs against a {@link World}. Producers run here through their library
 * functions; worker processes are killed and restarted; the simulator changes accounts behind
 * the project's back and injects faults. Every op answers a short text for the trace.
 *
 * Account, window and batch arguments are indexes (taken modulo what exists when the op runs),
 * so a shrunk sequence stays meaningful when commands before it are removed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelBatch } from '../../src/ops/batch-cancel.js';
import { undoBatch } from '../../src/ops/batch-undo.js';
import { startBulkRun } from '../../src/ops/bulk.js';
import { runManual, type ManualDeps } from '../../src/producers/manual.js';
import { occurrenceId } from '../../src/producers/windows/spec.js';
import type { Producer } from '../../src/queue/enqueue.js';
import type { SimFaults } from '../../src/sim/index.js';
import { readHolds } from '../../src/store/holds.js';
import { NO_FAULTS, type World } from './world.js';

export interface Op {
  readonly label: string;
  /** Can run inside a race (a producer call). */
  readonly raceable: boolean;
  /** Runs several calls at once (the holds' history is not extended through it). */
  readonly concurrent?: boolean;
  exec(w: World): Promise<string>;
}

/** Errors a command may meet in ordinary use (a refused request, an API read that failed). */
export function expectedError(w: World, err: unknown): boolean {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : '';
  if (['UsageError', 'StateConflictError', 'NotFoundError'].includes(name)) return true;
  // The API's faults reach the producers' reads (a window start is tried again, like the
  // windows queue does; a bulk run is run again, like an operator would).
  const apiTrouble = w.faultsOn || w.unreadable.size > 0;
  return (
    apiTrouble && (name === 'SendmuxError' || /sendmux|api|timed? ?out|socket|ECONN/i.test(message))
  );
}

const short = (key: string) => (key.length > 60 ? `${key.slice(0, 57)}...` : key);

function manualDeps(w: World, producer: Producer = w.producer): ManualDeps {
  return { producer, redis: w.redis, keys: w.keys, reader: w.api.reader };
}

// ---- manual ----

export function deactivate(idx: readonly number[]): Op {
  return {
    label: `manual deactivate [${idx.join(',')}]`,
    raceable: true,
    async exec(w) {
      const ids = [...new Set(idx.map((i) => w.account(i)))];
      const run = await runManual(manualDeps(w), {
        action: 'deactivate',
        accountIds: ids,
        reason: 'model',
      });
      return run.outcomes
        .map(
          (o) =>
            `${o.accountId}: ${o.held ? 'held' : `${o.result.status} ${short(o.result.idempotencyKey)}`}`,
        )
        .join('; ');
    },
  };
}

/**
 * An operator's activate. `between` runs after the manual hold was released and before the
 * activation is handed to the queue (the producer's enqueue waits for it): a race made
 * deterministic (issue 17, case 2).
 */
export function activate(i: number, between?: Op): Op {
  return {
    label: between
      ? `manual activate ${i} with [${between.label}] before its enqueue`
      : `manual activate ${i}`,
    raceable: true,
    concurrent: between !== undefined,
    async exec(w) {
      const id = w.account(i);
      let inner = '';
      const producer: Producer = between
        ? {
            enqueue: (intent) => w.producer.enqueue(intent),
            async enqueueMany(intents, options) {
              inner = await between.exec(w);
              return w.producer.enqueueMany(intents, options);
            },
          }
        : w.producer;
      const run = await runManual(manualDeps(w, producer), {
        action: 'activate',
        accountIds: [id],
        reason: 'model',
      });
      const o = run.outcomes[0];
      if (o && !o.held) w.base.set(id, 'active'); // the operator asked, and nothing else held it
      const what = !o
        ? 'no outcome'
        : o.held
          ? `held by [${o.heldBy.join(', ')}]`
          : `${o.result.status} ${short(o.result.idempotencyKey)}`;
      return between ? `${what}; between: ${inner || '(enqueue not called)'}` : what;
    },
  };
}

// ---- bulk ----

export function bulk(idx: readonly number[]): Op {
  return {
    label: `bulk deactivate [${idx.join(',')}]`,
    raceable: true,
    async exec(w) {
      const ids = [...new Set(idx.map((i) => w.account(i)))];
      const batchId = `mb${w.batches.length + 1}-${w.t0.toString(36).slice(-4)}`;
      w.batches.push(batchId);
      let last: unknown;
      // A run that fails on the API (its reads) is run again by its operator: same batch id.
      for (let attempt = 1; attempt <= 4; attempt++) {
        try {
          const r = await startBulkRun(w.config, {
            source: { kind: 'ids', ids },
            batchId,
            reason: 'model bulk',
            includeShared: true,
          });
          return `${batchId}: enqueued ${r.pass.enqueued}, resumed ${r.pass.resumed}, skipped ${r.pass.skipped} (attempt ${attempt})`;
        } catch (err) {
          last = err;
          if (!expectedError(w, err)) throw err;
          await sleep(50);
        }
      }
      throw last;
    },
  };
}

export function cancel(k: number): Op {
  return {
    label: `batch cancel #${k}`,
    raceable: true,
    async exec(w) {
      const id = w.batches[k % Math.max(1, w.batches.length)];
      if (id === undefined) return 'no batch';
      const r = await cancelBatch(w.config, id);
      return `${id}: cancelled ${r.cancelled}, running ${r.running}, done ${r.already_done}`;
    },
  };
}

export function undo(k: number, force: boolean): Op {
  return {
    label: `batch undo #${k}${force ? ' --force' : ''}`,
    raceable: true,
    async exec(w) {
      const id = w.batches[k % Math.max(1, w.batches.length)];
      if (id === undefined) return 'no batch';
      const r = await undoBatch(w.config, id, { force });
      return `${id}: reactivated ${r.reactivated}, still_held ${r.still_held}, was_inactive ${r.was_inactive}, not_switched_off ${r.not_switched_off}, already_undone ${r.already_undone}, cancelled_first ${r.cancelled_first}`;
    },
  };
}

// ---- breaker ----

export function signals(i: number, hard: number, delivered: number): Op {
  return {
    label: `breaker signals ${i}: ${hard} hard bounces, ${delivered} delivered`,
    raceable: true,
    async exec(w) {
      const id = w.account(i);
      const results: string[] = [];
      const send = async (outcome: 'bounced' | 'delivered') => {
        const r = await w.breaker.signal({
          id: w.nextSignalId(),
          account_id: id,
          outcome,
          ...(outcome === 'bounced' ? { bounce_type: 'Permanent' } : {}),
          occurred_at: w.breakerNow().toISOString(),
        });
        if (r.result !== 'counted') results.push(r.result);
      };
      for (let n = 0; n < delivered; n++) await send('delivered');
      for (let n = 0; n < hard; n++) await send('bounced');
      return `${id}: ${results.length > 0 ? results.join(', ') : 'counted'}`;
    },
  };
}

export function trip(i: number): Op {
  return {
    label: `breaker trip ${i}`,
    raceable: true,
    async exec(w) {
      const id = w.account(i);
      const r = await w.breaker.trip(id, 'model trip');
      return `${id}: ${r.result}`;
    },
  };
}

export function reset(i: number): Op {
  return {
    label: `breaker reset ${i}`,
    raceable: true,
    async exec(w) {
      const id = w.account(i);
      const r = await w.breaker.reset(id);
      return `${id}: ${JSON.stringify(r).slice(0, 200)}`;
    },
  };
}

/** The breaker's clock jumps (`short`: past a first cooldown; `long`: past every step), then a tick. */
export function tick(kind: 'short' | 'long'): Op {
  return {
    label: `breaker tick after ${kind === 'short' ? 'a cooldown' : 'every cooldown and watch'}`,
    raceable: true,
    async exec(w) {
      w.breakerOffsetMs += kind === 'short' ? 61_000 : 250_000;
      const r = await w.breaker.tick();
      return `half-open [${r.halfOpen.join(', ')}], closed [${r.closed.join(', ')}]`;
    },
  };
}

// ---- windows ----

const WINDOW_LEAD_MS = 60_000;
const WINDOW_LENGTH_MS = 600_000;
/** The windows queue tries a failed step again after this long. */
const STEP_RETRY_MS = 5_000;

export function windowCreate(idx: readonly number[], lengthMs = WINDOW_LENGTH_MS): Op {
  return {
    label: `window create [${idx.join(',')}]${lengthMs === WINDOW_LENGTH_MS ? '' : ` for ${lengthMs / 1000} s`}`,
    raceable: false,
    async exec(w) {
      const ids = [...new Set(idx.map((i) => w.account(i)))];
      const startsMs = w.windowClock + WINDOW_LEAD_MS;
      const endMs = startsMs + lengthMs;
      const v = await w.windowSteps.create({
        accounts: ids,
        start: new Date(startsMs).toISOString(),
        end: new Date(endMs).toISOString(),
        reason: 'model window',
      });
      w.windows.push({ id: v.id, targets: ids, startsMs, endMs });
      return `${v.id} [${ids.join(', ')}]`;
    },
  };
}

/**
 * Create a window starting exactly when window #k ends, on the same accounts (back to back:
 * issue 17, case 1).
 */
export function windowCreateAfter(k: number): Op {
  return {
    label: `window create after #${k} (same accounts, starts at its end)`,
    raceable: false,
    async exec(w) {
      const prev = w.windows[k % Math.max(1, w.windows.length)];
      if (!prev) return 'no window';
      const startsMs = Math.max(prev.endMs, w.windowClock + 1_000);
      const endMs = startsMs + WINDOW_LENGTH_MS;
      const v = await w.windowSteps.create({
        accounts: prev.targets,
        start: new Date(startsMs).toISOString(),
        end: new Date(endMs).toISOString(),
        reason: 'model window (back to back)',
      });
      w.windows.push({ id: v.id, targets: prev.targets, startsMs, endMs });
      return `${v.id} from ${new Date(startsMs).toISOString()}`;
    },
  };
}

function windowAt(w: World, k: number) {
  return w.windows[k % Math.max(1, w.windows.length)];
}

function endKey(id: string, occurrence: string) {
  return `${id}|${occurrence}`;
}

/**
 * Runs an end this start asked for at once (cancelled or too late), as the windows queue would;
 * `before` is the end scheduled before the start ran.
 */
async function endsDue(
  w: World,
  id: string,
  occurrence: string,
  before: number | undefined,
): Promise<string> {
  const due = w.scheduledEnds.get(endKey(id, occurrence));
  if (due === undefined || due === before || due > w.windowClock) return '';
  const r = await w.windowSteps.end(id, occurrence);
  return `; its end at once: ${r.result}`;
}

/**
 * An occurrence's start, at its time on the windows' clock. A start that throws (the API
 * failing its reads) is run again 5 s later on that clock, as the windows queue does, until it
 * works or its occurrence is over.
 */
export function windowStart(k: number): Op {
  return {
    label: `window start #${k} (made first if there is none)`,
    raceable: true,
    async exec(w) {
      // With no window yet, one is made first (on three accounts picked by `k`): a start is
      // what makes a window matter, and sequences should not spend it on nothing.
      const made = w.windows.length === 0 ? await windowCreate([k, k + 1, k + 3]).exec(w) : '';
      const meta = windowAt(w, k);
      if (!meta) return 'no window';
      w.windowClock = Math.max(w.windowClock, meta.startsMs);
      const occurrence = occurrenceId(meta.startsMs);
      const scheduled = w.scheduledEnds.get(endKey(meta.id, occurrence));
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await w.windowSteps.start(meta.id, meta.startsMs);
          const what =
            r.result === 'started'
              ? `started: ${JSON.stringify(r.event)}`
              : r.result === 'skipped'
                ? 'skipped'
                : r.result;
          const due = await endsDue(w, meta.id, occurrence, scheduled);
          return `${made ? `created ${made}; ` : ''}${meta.id} (attempt ${attempt}): ${what}${due}`;
        } catch (err) {
          if (!expectedError(w, err) || attempt >= 200) throw err;
          w.windowClock += STEP_RETRY_MS;
        }
      }
    },
  };
}

export function windowEnd(k: number): Op {
  return {
    label: `window end #${k}`,
    raceable: true,
    async exec(w) {
      const meta = windowAt(w, k);
      if (!meta) return 'no window';
      const occurrence = occurrenceId(meta.startsMs);
      const endMs = w.scheduledEnds.get(endKey(meta.id, occurrence)) ?? meta.endMs;
      w.windowClock = Math.max(w.windowClock, endMs);
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await w.windowSteps.end(meta.id, occurrence);
          return `${meta.id}: ${r.result === 'ended' ? `ended: ${JSON.stringify(r.event)}` : r.result}`;
        } catch (err) {
          if (!expectedError(w, err) || attempt >= 20) throw err;
          w.windowClock += STEP_RETRY_MS;
        }
      }
    },
  };
}

export function windowCancel(k: number): Op {
  return {
    label: `window cancel #${k}`,
    raceable: true,
    async exec(w) {
      const meta = windowAt(w, k);
      if (!meta) return 'no window';
      const r = await w.windowSteps.cancel(meta.id);
      return `${meta.id}: was ${r.was}, ended [${r.ended.join(', ')}]`;
    },
  };
}

export function windowExtend(k: number): Op {
  return {
    label: `window extend #${k}`,
    raceable: true,
    async exec(w) {
      const meta = windowAt(w, k);
      if (!meta) return 'no window';
      const occurrence = occurrenceId(meta.startsMs);
      const current = w.scheduledEnds.get(endKey(meta.id, occurrence)) ?? meta.endMs;
      const endMs = Math.max(current, w.windowClock) + 300_000;
      await w.windowSteps.extend(meta.id, new Date(endMs).toISOString());
      meta.endMs = endMs;
      return `${meta.id}: ends ${new Date(endMs).toISOString()}`;
    },
  };
}

// ---- the world around ----

/**
 * Someone switches the account on or off at the API (Sendmux's dashboard). Only while the
 * project has no hold on it and no intent of its own pending (else skipped, said so), in a
 * later second than the account's last change (updated_at has one-second resolution); then
 * the system is told what the API shows (the knowledge refresh).
 */
export function outside(i: number, status: 'active' | 'inactive'): Op {
  return {
    label: `outside: switch ${i} ${status === 'active' ? 'on' : 'off'} at the API`,
    raceable: false,
    async exec(w) {
      const id = w.account(i);
      const held = (await readHolds(w.redis, w.keys, id)).holds;
      if (held.length > 0) return `skipped: ${id} held by [${held.map((h) => h.id).join(', ')}]`;
      let pending = await w.pendingFor(id);
      for (let waited = 0; pending.length > 0 && w.running() > 0 && waited < 5_000; waited += 100) {
        await sleep(100);
        pending = await w.pendingFor(id);
      }
      if (pending.length > 0) return `skipped: ${id} has intents pending [${pending.join(', ')}]`;
      const updated = Date.parse(w.sim.account(id)?.updated_at ?? '');
      const waitMs = Math.max(
        1_050,
        (Number.isFinite(updated) ? updated + 1_000 : 0) - Date.now() + 50,
      );
      await sleep(Math.min(waitMs, 2_100));
      const item = w.sim.setAccountStatus(id, status);
      w.base.set(id, status);
      const refreshed = await w.refresh([id]);
      return `${id} ${item?.status ?? '?'} at ${item?.updated_at ?? '?'}${refreshed ? ', refreshed' : ', not refreshed (no observe-accounts)'}`;
    },
  };
}

export const FAULT_PROFILES: Record<string, Partial<SimFaults>> = {
  off: NO_FAULTS,
  flaky: {
    ...NO_FAULTS,
    error500Rate: 0.08,
    error503Rate: 0.04,
    retryAfter503S: 0,
    lostRate: 0.05,
    dropRate: 0.03,
    hangRate: 0.03,
    readError500Rate: 0.1,
  },
  slow: { ...NO_FAULTS, latencyMs: 50, latencyJitterMs: 400, lostRate: 0.05 },
  reads: { ...NO_FAULTS, error500Rate: 0.1, readError500Rate: 0.1 },
};

export function faults(profile: keyof typeof FAULT_PROFILES): Op {
  return {
    label: `faults ${profile}`,
    raceable: false,
    exec(w) {
      w.setFaults(FAULT_PROFILES[profile] ?? NO_FAULTS);
      return Promise.resolve(JSON.stringify(w.sim.stats().faults));
    },
  };
}

export function readable(i: number, ok: boolean): Op {
  return {
    label: `account ${i} ${ok ? 'readable again' : 'unreadable (GET answers 500)'}`,
    raceable: false,
    exec(w) {
      const id = w.account(i);
      w.sim.setReadable(id, ok);
      if (ok) w.unreadable.delete(id);
      else w.unreadable.add(id);
      return Promise.resolve(id);
    },
  };
}

export function kill(slot: number): Op {
  return {
    label: `SIGKILL worker ${slot}`,
    raceable: false,
    async exec(w) {
      return (await w.killWorker(slot)) ? 'killed' : 'was not running';
    },
  };
}

/** Every worker SIGKILLed: what is queued waits (and collides with what comes next). */
export const killAll: Op = {
  label: 'SIGKILL every worker',
  raceable: false,
  async exec(w) {
    let n = 0;
    for (let i = 0; i < w.slots; i++) if (await w.killWorker(i)) n++;
    return `killed ${n}`;
  },
};

export const restart: Op = {
  label: 'restart workers',
  raceable: false,
  async exec(w) {
    return `started ${await w.restartWorkers()}`;
  },
};

export function settle(ms: number): Op {
  return {
    label: `settle ${ms} ms`,
    raceable: false,
    async exec() {
      await sleep(ms);
      return 'ok';
    },
  };
}

/** Wait until the queue is drained (only while workers run). */
export function drain(timeoutMs = 30_000): Op {
  return {
    label: 'wait until drained',
    raceable: false,
    async exec(w) {
      if (w.running() === 0) return 'no worker running: not waited';
      return (await w.drain(timeoutMs)) ? 'drained' : `not drained in ${timeoutMs} ms`;
    },
  };
}

/** Two producer calls at once. */
export function race(a: Op, b: Op): Op {
  return {
    label: `race(${a.label} || ${b.label})`,
    raceable: false,
    concurrent: true,
    async exec(w) {
      const [ra, rb] = await Promise.allSettled([a.exec(w), b.exec(w)]);
      const show = (r: PromiseSettledResult<string>) => {
        if (r.status === 'fulfilled') return r.value;
        if (!expectedError(w, r.reason)) throw r.reason;
        return `threw ${String(r.reason)}`;
      };
      return `${show(ra)} || ${show(rb)}`;
    },
  };
}

/** Runs an op inside another; an expected throw becomes its answer. */
async function sub(w: World, op: Op): Promise<string> {
  try {
    return await op.exec(w);
  } catch (err) {
    if (!expectedError(w, err)) throw err;
    return `threw ${String(err)}`;
  }
}

/**
 * Every source lets go: windows cancelled, batches undone (--force), breakers reset, manual
 * holds released by an operator's activate. Afterwards only the base decides (check 2).
 */
export const releaseAll: Op = {
  label:
    'release everything (workers up and drained, then: cancel windows, undo batches, reset breakers, activate manual holds)',
  raceable: false,
  async exec(w) {
    const out: string[] = [];
    out.push(`workers started ${await w.restartWorkers()}`);
    // Deactivations still running keep their run's hold through an undo: let them end first.
    out.push((await w.drain(15_000)) ? 'drained' : 'not drained in 15 s');
    for (let k = 0; k < w.windows.length; k++) out.push(await sub(w, windowCancel(k)));
    for (let k = 0; k < w.batches.length; k++) out.push(await sub(w, undo(k, true)));
    for (let i = 0; i < w.accounts.length; i++) {
      const id = w.account(i);
      const held = (await readHolds(w.redis, w.keys, id)).holds.map((h) => h.id);
      if (held.includes('breaker')) out.push(await sub(w, reset(i)));
      if (held.includes('manual')) out.push(await sub(w, activate(i)));
    }
    return out.join(' | ');
  },
};
