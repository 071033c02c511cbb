/**
 * The end of a sequence and what is checked then (issue 17): faults off, every worker running,
 * the queue drained; then, against the simulator's own record:
 *
 * 1. every account with holds is `inactive` at the simulator;
 * 2. every account without holds is in its base state (as the world computed it);
 * 3. no activation began while its account certainly had a hold (the holds' history from the
 *    world's snapshots; when the activation began: the binding's `began_at` when there is one,
 *    else the simulator's execution time minus {@link BEGIN_TOLERANCE_MS});
 * 4. every idempotency key bound has exactly one `action.*` terminal event;
 * 5. at most one changed execution per idempotency key at the simulator;
 * 6. every `window.started` / `window.ended` event lists every target of its window in exactly
 *    one of its lists.
 *
 * Plus two that guard the harness itself: the queue drained in time (0), and no producer call
 * threw what no command expects.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { SimLogEntry } from '../../src/sim/index.js';
import { NO_FAULTS, type World } from './world.js';

/** Without `began_at`: an activation began at most this long before the simulator ran it. */
export const BEGIN_TOLERANCE_MS = 1_000;

export interface Failure {
  check: number;
  account?: string;
  message: string;
}

interface BindingRow {
  key: string;
  accountId: string;
  action: string;
  state: string;
  beganAt: number | undefined;
}

interface EventRow {
  id: string;
  type: string;
  event: Record<string, unknown>;
}

export interface Collected {
  holds: Record<string, string[]>;
  status: Record<string, string>;
  log: SimLogEntry[];
  bindings: Map<string, BindingRow>;
  events: EventRow[];
}

async function scanKeys(w: World, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  do {
    const [next, found] = await w.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}

export async function collect(w: World): Promise<Collected> {
  const holds = await w.readAllHolds();
  const status: Record<string, string> = {};
  for (const id of w.accounts) status[id] = w.sim.account(id)?.status ?? 'missing';
  const bindingPrefix = w.keys.binding('');
  const bindings = new Map<string, BindingRow>();
  for (const redisKey of await scanKeys(w, bindingPrefix)) {
    const h = await w.redis.hgetall(redisKey);
    if (h.state === undefined) continue;
    const key = redisKey.slice(bindingPrefix.length);
    const began = Number(h.began_at);
    bindings.set(key, {
      key,
      accountId: h.provider_id ?? '',
      action: h.action ?? '',
      state: h.state,
      beganAt: h.began_at && Number.isFinite(began) ? began : undefined,
    });
  }
  const entries = (await w.redis.xrange(w.keys.events, '-', '+')) as [string, string[]][];
  const events: EventRow[] = entries.map(([id, fields]) => {
    const i = fields.indexOf('event');
    const raw = i >= 0 ? fields[i + 1] : undefined;
    let event: Record<string, unknown>;
    try {
      event = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      event = { type: 'unparsable', raw };
    }
    return { id, type: typeof event.type === 'string' ? event.type : '?', event };
  });
  return { holds, status, log: w.sim.log(), bindings, events };
}

/** Per account: the spans (ms since start) during which it certainly had a hold, with the ids. */
export function heldSpans(w: World): Map<string, { from: number; to: number; ids: string[] }[]> {
  const out = new Map<string, { from: number; to: number; ids: string[] }[]>();
  const snaps = w.snapshots;
  for (const account of w.accounts) {
    const spans: { from: number; to: number; ids: string[] }[] = [];
    const allIds = new Set(snaps.flatMap((s) => s.holds[account] ?? []));
    for (const holdId of allIds) {
      let open: number | undefined;
      for (let k = 0; k < snaps.length; k++) {
        const snap = snaps[k];
        if (!snap) continue;
        const has = (snap.holds[account] ?? []).includes(holdId);
        const cmd = k > 0 ? w.trace[k - 1] : undefined;
        if (open !== undefined && cmd) {
          // Held before the command (trace[k-1]) and after it: held through it, unless it ran
          // several calls at once (those may release the hold and take it again).
          if (has && !cmd.concurrent) continue;
          spans.push({ from: open, to: cmd.start, ids: [holdId] });
          open = undefined;
        }
        if (has && open === undefined) open = snap.from;
      }
      if (open !== undefined) spans.push({ from: open, to: Infinity, ids: [holdId] });
    }
    out.set(account, spans);
  }
  return out;
}

function listedIds(event: Record<string, unknown>): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const [field, value] of Object.entries(event)) {
    if (!Array.isArray(value)) continue;
    for (const item of value as unknown[]) {
      const id =
        typeof item === 'string'
          ? item
          : item && typeof item === 'object' && 'account_id' in item
            ? String(item.account_id)
            : undefined;
      if (id === undefined) continue;
      where.set(id, [...(where.get(id) ?? []), field]);
    }
  }
  return where;
}

export function runChecks(w: World, c: Collected): Failure[] {
  const failures: Failure[] = [];
  const fail = (check: number, message: string, account?: string) => {
    failures.push({ check, message, account });
  };

  for (const u of w.unexpected) fail(0, `a producer call threw: ${u}`);

  // 1 and 2: the accounts' states.
  for (const id of w.accounts) {
    const held = c.holds[id] ?? [];
    const status = c.status[id] ?? 'missing';
    const base = w.base.get(id) ?? 'active';
    if (held.length > 0) {
      if (status !== 'inactive') {
        fail(
          1,
          `${id} is ${status} at the simulator but held by [${held.join(', ')}] (base ${base})`,
          id,
        );
      }
    } else {
      const shown = status === 'pending' ? 'active' : status;
      if (shown !== base) {
        fail(2, `${id} has no hold and is ${status} at the simulator; its base is ${base}`, id);
      }
    }
  }

  // 3: no activation began while its account certainly had a hold.
  const spans = heldSpans(w);
  for (const e of c.log) {
    if (e.via !== 'api' || e.action !== 'activate') continue;
    const executed = e.at - w.t0;
    const binding = e.key === null ? undefined : c.bindings.get(e.key);
    const began = binding?.beganAt !== undefined ? binding.beganAt - w.t0 : undefined;
    // `began_at` of a later attempt (after the one that executed) says nothing about this one.
    const exact = began !== undefined && began <= executed + 5;
    const at = exact ? began : executed - BEGIN_TOLERANCE_MS;
    const hit = (spans.get(e.account) ?? []).find((s) =>
      exact ? at > s.from && at < s.to : at > s.from && executed < s.to,
    );
    if (hit) {
      const when = exact
        ? `began at +${began} ms (began_at)`
        : `ran at the API at +${executed} ms (no usable began_at; tolerance ${BEGIN_TOLERANCE_MS} ms)`;
      fail(
        3,
        `activation ${e.key ?? '(no key)'} of ${e.account} ${when}${e.changed ? '' : ', a no-op'}, while hold ${hit.ids.join(', ')} certainly stood (+${hit.from} .. ${Number.isFinite(hit.to) ? `+${hit.to}` : 'the end'} ms)`,
        e.account,
      );
    }
  }

  // 4: one terminal event per intent.
  const terminal = new Map<string, number>();
  for (const ev of c.events) {
    if (!ev.type.startsWith('action.')) continue;
    const key = String(ev.event.idempotency_key);
    terminal.set(key, (terminal.get(key) ?? 0) + 1);
  }
  for (const [key, b] of c.bindings) {
    const n = terminal.get(key) ?? 0;
    if (n !== 1) {
      fail(
        4,
        `intent ${key} (${b.action} ${b.accountId}, ${b.state}) has ${n} terminal events`,
        b.accountId,
      );
    }
  }
  for (const [key, n] of terminal) {
    if (!c.bindings.has(key))
      fail(4, `${n} terminal event(s) for key ${key}, which has no binding`);
  }

  // 5: at most one changed execution per key.
  const executions = new Map<string, SimLogEntry[]>();
  for (const e of c.log) {
    if (e.via !== 'api' || !e.changed || e.key === null) continue;
    executions.set(e.key, [...(executions.get(e.key) ?? []), e]);
  }
  for (const [key, list] of executions) {
    if (list.length > 1) {
      fail(
        5,
        `key ${key} changed ${list[0]?.account ?? '?'} ${list.length} times at the simulator`,
        list[0]?.account,
      );
    }
  }

  // 6: window events account for every target once.
  for (const ev of c.events) {
    if (ev.type !== 'window.started' && ev.type !== 'window.ended') continue;
    const windowId = String(ev.event.window_id);
    const meta = w.windows.find((m) => m.id === windowId);
    if (!meta) continue;
    const where = listedIds(ev.event);
    for (const target of meta.targets) {
      const lists = where.get(target) ?? [];
      if (lists.length !== 1) {
        fail(
          6,
          `${ev.type} of ${windowId}:${String(ev.event.occurrence)} lists ${target} ${lists.length === 0 ? 'nowhere' : `in ${lists.join(', ')}`}`,
          target,
        );
      }
    }
    for (const [id, lists] of where) {
      if (!meta.targets.includes(id)) {
        fail(6, `${ev.type} of ${windowId} lists ${id}, not a target, in ${lists.join(', ')}`, id);
      }
    }
  }
  return failures;
}

/** Faults off, every worker running, the queue drained: then collect and check. */
export async function finish(
  w: World,
  drainMs: number,
): Promise<{ failures: Failure[]; collected: Collected }> {
  w.setFaults(NO_FAULTS);
  for (const id of w.unreadable) w.sim.setReadable(id, true);
  w.unreadable.clear();
  await w.step('end: faults off, workers restarted', false, async () => {
    return `started ${await w.restartWorkers()}`;
  });
  const end = { drained: false };
  await w.step('end: wait until drained', false, async () => {
    end.drained = await w.drain(drainMs);
    if (end.drained) return 'drained';
    const pending = await w.pendingKeys();
    return `NOT drained in ${drainMs} ms: pending [${pending.join(', ')}], jobs ${JSON.stringify(await w.jobCounts())}`;
  });
  const collected = await collect(w);
  const failures = runChecks(w, collected);
  if (!end.drained) {
    failures.unshift({
      check: 0,
      message: `the queue did not drain in ${drainMs} ms: ${w.trace.at(-1)?.result ?? ''}`,
    });
  }
  return { failures, collected };
}

const CHECK_NAMES: Record<number, string> = {
  0: 'harness: drained, no unexpected throw',
  1: 'held => inactive',
  2: 'no hold => base',
  3: 'no activation began under a hold',
  4: 'one terminal event per intent',
  5: 'at most one execution per key',
  6: 'window events list every target once',
  7: "the case's own expectation",
};

function fmtEvent(e: Record<string, unknown>): string {
  const { type, idempotency_key, account_id, action, source, source_ref, at } = e;
  if (typeof type === 'string' && type.startsWith('action.')) {
    const extra = ['error_code', 'superseded_by', 'account_status', 'http_status']
      .filter((k) => e[k] !== null && e[k] !== undefined)
      .map((k) => `${k}=${JSON.stringify(e[k])}`)
      .join(' ');
    return `${type} ${String(action)} ${String(account_id)} key=${String(idempotency_key)} source=${String(source)}${typeof source_ref === 'string' ? `:${source_ref}` : ''} ${extra}`;
  }
  const copy = { ...e };
  delete copy.at;
  return `${String(type)} ${JSON.stringify(copy).slice(0, 400)} at=${String(at)}`;
}

/** A readable report: the failures, the sequence, and each failing account's timeline. */
export function report(w: World, label: string, failures: Failure[], c: Collected): string {
  const lines: string[] = [];
  lines.push(`model check: ${label}: ${failures.length} problem(s)`);
  for (const f of failures)
    lines.push(`  check ${f.check} (${CHECK_NAMES[f.check] ?? '?'}): ${f.message}`);
  lines.push('', `accounts: ${w.accounts.join(', ')}`);
  lines.push(
    `final: ${w.accounts
      .map(
        (id) =>
          `${id.slice(-2)}=${c.status[id] ?? '?'}/base ${w.base.get(id) ?? '?'}/holds [${(c.holds[id] ?? []).join(' ')}]`,
      )
      .join('; ')}`,
  );
  lines.push('', 'commands (ms since start):');
  for (const t of w.trace) {
    lines.push(
      `  #${t.n} +${t.start}..+${t.end} ${t.label}${t.concurrent ? ' [concurrent]' : ''} -> ${t.result}`,
    );
  }
  const accounts = [...new Set(failures.map((f) => f.account).filter((a): a is string => !!a))];
  for (const id of accounts) {
    lines.push('', `timeline of ${id}:`);
    const rows: [number, string][] = [];
    let prev = '';
    for (const s of w.snapshots) {
      const now = (s.holds[id] ?? []).join(', ');
      if (now !== prev) rows.push([s.from, `holds after #${s.after}: [${now}]`]);
      prev = now;
    }
    for (const e of c.log) {
      if (e.account !== id) continue;
      const b = e.key ? c.bindings.get(e.key) : undefined;
      const began = b?.beganAt !== undefined ? ` (began_at +${b.beganAt - w.t0})` : '';
      rows.push([
        e.at - w.t0,
        `simulator: ${e.via} ${e.action} ${e.changed ? 'changed' : 'no-op'} key=${e.key ?? '-'}${began}`,
      ]);
    }
    for (const ev of c.events) {
      const e = ev.event;
      const mentions = e.account_id === id || JSON.stringify(e).includes(`"${id}"`);
      if (!mentions) continue;
      const ms = Number(ev.id.split('-')[0]) - w.t0;
      rows.push([ms, `event: ${fmtEvent(e)}`]);
    }
    rows.sort((a, b) => a[0] - b[0]);
    for (const [ms, text] of rows) lines.push(`  +${ms} ${text}`);
  }
  const problems = w.workerProblems();
  if (problems.length > 0)
    lines.push('', 'worker errors:', ...problems.slice(0, 30).map((p) => `  ${p}`));
  if (w.notes.length > 0) lines.push('', 'notes:', ...w.notes.map((n) => `  ${n}`));
  return lines.join('\n');
}

/** Writes a report under test-results/model/ and answers its path. */
export function saveReport(name: string, text: string): string {
  const dir = 'test-results/model';
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name.replace(/[^A-Za-z0-9._-]/g, '_')}.txt`;
  writeFileSync(path, `${text}\n`);
  return path;
}

/** What a sequence exercised, counted (summed over a run and printed: what the budget covers). */
export function coverage(w: World, c: Collected): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string, n = 1) => {
    out[k] = (out[k] ?? 0) + n;
  };
  add('commands', w.trace.filter((t) => !t.label.startsWith('end:')).length);
  for (const e of c.log) {
    if (e.via === 'api') add(`api ${e.action}${e.changed ? '' : ' (no-op)'}`);
    else if (e.changed) add('outside changes');
  }
  for (const ev of c.events) add(ev.type);
  for (const t of w.trace) {
    if (t.label.startsWith('SIGKILL') && t.result === 'killed') add('workers killed');
    if (t.concurrent) add('races');
    if (t.result.startsWith('threw')) add('calls refused or failed');
  }
  // Accounts whose last hold went (a release that hands the account back to its base).
  for (const id of w.accounts) {
    for (let k = 1; k < w.snapshots.length; k++) {
      const before = w.snapshots[k - 1]?.holds[id]?.length ?? 0;
      const after = w.snapshots[k]?.holds[id]?.length ?? 0;
      if (before > 0 && after === 0) add('last holds released');
      if (after > before + 0 && after >= 2) add('accounts with 2+ holds');
    }
  }
  return out;
}
