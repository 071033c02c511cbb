/**
 * `breaker backtest` as a library function: read one history (a file of signals or webhook
 * bodies, the webhook inbox still in Redis, or the team's delivery logs), replay it through the
 * current rules and each candidate rule set, and say per account when each would have warned and
 * tripped (producers/breaker/backtest/). Nothing is written: not to Redis, not to the API.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.js';
import { ConfigError, UsageError } from '../errors.js';
import type { EvaluatorSettings } from '../producers/breaker/backtest/evaluate.js';
import { readLogHistory } from '../producers/breaker/backtest/from-logs.js';
import { readActualEvents, readInboxHistory } from '../producers/breaker/backtest/from-redis.js';
import { lineReader, readLines } from '../producers/breaker/backtest/read-lines.js';
import { ruleSetsOf } from '../producers/breaker/backtest/rule-sets.js';
import { runBacktest } from '../producers/breaker/backtest/run.js';
import { SignalLog } from '../producers/breaker/backtest/signal-log.js';
import { createResolver, parseSenderMap } from '../producers/breaker/resolve.js';
import { createRedis } from '../redis/connect.js';
import { keysFor } from '../store/keys.js';
import { backtestView, type ActualView, type BacktestView } from '../wire/backtest.js';

export const BACKTEST_SOURCES = ['file', 'redis', 'logs'] as const;
export type BacktestSource = (typeof BACKTEST_SOURCES)[number];

export interface BacktestOptions {
  from: BacktestSource;
  /** For `file`: the path, `-` for standard input. */
  file?: string;
  /** Candidate rule sets, `[name=]path` each (rule-sets.ts). */
  rules?: readonly string[];
  /** For `logs`: the start (ISO 8601, or `90m`, `24h`, `7d` before now); `until` the end. */
  since?: string;
  until?: string;
  /** A line that is not a signal is an error (exit 2) rather than skipped. */
  strict?: boolean;
  /** A JSON file mapping senders to accounts, instead of BREAKER_SENDER_MAP. */
  senderMap?: string;
  /** Standard input, for `--file -`. @defaultValue process.stdin */
  stdin?: AsyncIterable<string | Buffer>;
  signal?: AbortSignal;
}

const RELATIVE = /^(\d+)([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`/`--until`: ISO 8601, or a duration before now (`90m`, `24h`, `7d`). */
export function parseSince(value: string, name: string, now = Date.now()): number {
  const rel = RELATIVE.exec(value.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || !Number.isFinite(ms)) {
    throw new UsageError(
      `${name} must be an ISO 8601 time or a duration before now such as 90m, 24h, 7d (got "${value}")`,
    );
  }
  return ms;
}

function assumptions(config: Config, from: BacktestSource): string[] {
  const out = [
    'every account is taken as mode act: a trip is what the rules would do if acting (in mode warn or watch the live breaker records breaker.would_trip instead)',
    config.breakerCooldownS > 0
      ? `a trip goes half-open after BREAKER_COOLDOWN_S=${config.breakerCooldownS}s (doubled by a trip while half-open, up to ${config.breakerCooldownMaxS}s) and closes after ${config.breakerHalfOpenWatchS}s without a trip, exactly when due`
      : 'BREAKER_COOLDOWN_S=0: a tripped account stays open to the end of the history (only an operator resets it)',
    "operators' resets and manual trips are not in the history: the replay cannot know of them",
    `a signal id is counted once within SIGNAL_DEDUPE_TTL_S=${config.signalDedupeTtlS}s of the replay's time`,
  ];
  if (from === 'file') {
    out.push(
      'each signal is seen when it happened (replayed in occurred_at order; none is late or stale)',
    );
  }
  if (from === 'redis') {
    out.push(
      'each inbox entry is seen when it arrived; the inbox holds only what it has not trimmed yet, and the events stream only its last EVENTS_MAX_LEN events',
    );
  }
  if (from !== 'logs') {
    out.push(
      "a webhook's account comes from the sender map only (BREAKER_SENDER_MAP or --sender-map); the server also asks the API (accounts' from_email, delivery logs): bodies the map does not settle are skipped",
    );
  } else {
    out.push(
      'delivery logs: sent = delivered, failed = hard bounce, rejected = rejected, pending skipped; logs have no complaints',
    );
  }
  return out;
}

async function senderMapOf(config: Config, path: string | undefined): Promise<Map<string, string>> {
  if (path === undefined) return parseSenderMap(config.breakerSenderMap);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--sender-map ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    return parseSenderMap(text);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(
        err.issues.join('; ').replace(/BREAKER_SENDER_MAP/g, `--sender-map ${path}`),
      );
    }
    throw err;
  }
}

async function readFileHistory(
  options: BacktestOptions,
  reader: ReturnType<typeof lineReader>,
): Promise<number> {
  const path = options.file;
  if (path === undefined) throw new UsageError('--from file needs --file <path> (- for stdin)');
  const input =
    path === '-'
      ? (options.stdin ?? process.stdin)
      : createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    return await readLines(input, reader);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new UsageError(`--file ${path}: cannot read the file (${code})`);
    }
    throw err;
  }
}

/** Replay one history through the current rules and the candidates; the `--json` view. */
export async function breakerBacktest(
  config: Config,
  options: BacktestOptions,
): Promise<BacktestView> {
  const sets = await ruleSetsOf(config, options.rules ?? []);
  const settings: EvaluatorSettings = {
    cooldownS: config.breakerCooldownS,
    cooldownMaxS: config.breakerCooldownMaxS,
    halfOpenWatchS: config.breakerHalfOpenWatchS,
    dedupeTtlS: config.signalDedupeTtlS,
  };
  const log = new SignalLog();
  let read: number;
  let name: string;
  let actual: ActualView | null = null;
  if (options.from === 'logs') {
    if (options.since === undefined) throw new UsageError('--from logs needs --since <time>');
    const since = parseSince(options.since, '--since');
    const until = options.until === undefined ? Infinity : parseSince(options.until, '--until');
    if (!config.apiKey) {
      throw new ConfigError(['SENDMUX_API_KEY: is required to read the delivery logs']);
    }
    name = 'GET /emails/logs';
    read = await withLogs(config, options, log, since, until);
  } else {
    const resolver = createResolver({ senderMap: await senderMapOf(config, options.senderMap) });
    const reader = lineReader(log, resolver);
    if (options.from === 'file') {
      name = options.file === '-' ? 'stdin' : (options.file ?? '');
      read = await readFileHistory(options, reader);
    } else {
      const redis = createRedis(config, { maxRetriesPerRequest: 3 });
      const keys = keysFor(config.prefix);
      try {
        name = config.prefix;
        read = await readInboxHistory(redis, keys, reader);
        actual = await readActualEvents(redis, keys, new Set(log.accounts));
      } finally {
        redis.disconnect();
      }
    }
  }
  if (options.strict && log.skipped > 0) {
    const first = log.skipReasons().map((s) => `${s.reason} (at ${s.where.join(', ')})`);
    throw new UsageError(`--strict: ${log.skipped} entries are not signals: ${first.join('; ')}`);
  }
  const outcomes = runBacktest(log, sets, settings);
  return backtestView(
    { kind: options.from, name, read, log },
    outcomes,
    assumptions(config, options.from),
    actual,
  );
}

async function withLogs(
  config: Config,
  options: BacktestOptions,
  log: SignalLog,
  since: number,
  until: number,
): Promise<number> {
  const [{ createSendmuxClient }, { takeReadCall, observeReadAnswer }, { limiterFor }] =
    await Promise.all([
      import('../sendmux/client.js'),
      import('../store/api-read-budget.js'),
      import('../worker/backoff.js'),
    ]);
  const client = createSendmuxClient({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey ?? '',
    timeoutMs: config.timeoutMs,
  });
  const redis = createRedis(config, { maxRetriesPerRequest: 3 });
  const keys = keysFor(config.prefix);
  const budget = {
    limiter: limiterFor(config.rateLimitPerMinute),
    reserve: config.rateLimitReserve,
  };
  try {
    const logs = client.listDeliveryLogs(
      {
        fromDate: new Date(since).toISOString(),
        ...(Number.isFinite(until) ? { toDate: new Date(until).toISOString() } : {}),
      },
      {
        signal: options.signal,
        beforeRequest: () => takeReadCall(redis, keys, budget, options.signal),
        afterResponse: (rateLimit) => observeReadAnswer(redis, keys, rateLimit),
      },
    );
    return await readLogHistory(logs, log, since, until);
  } finally {
    client.close();
    redis.disconnect();
  }
}
