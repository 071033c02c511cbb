/**
 * A long API read outside a job (`breaker backtest --from logs`, page after page) as a normal,
 * never urgent, caller of the key's budget: each page first takes one call of the workers'
 * limiter (spend-budget.ts) and one call of the rate budget's allowance (rate-budget.ts,
 * paced, leaving the reserve to urgent calls such as a breaker trip's), waiting while either is
 * spent; each answer's `X-RateLimit-*` headers update the budget's window as a worker's answer
 * does. So a backtest reading a month of logs slows down rather than starving the workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient as Redis } from '../redis/connect.js';
import type { RateLimitInfo } from '../sendmux/rate-limit-headers.js';
import type { Keys } from './keys.js';
import { observeWindowLua, takeCallLua } from './rate-budget.js';
import { defineScript } from './script.js';
import { spendBudget, type Budget } from './spend-budget.js';

// KEYS: rate budget. ARGV: now ms, reserve. {'go'} or {'budget', ms to wait}.
const takeScript = defineScript(`
${takeCallLua('KEYS[1]', 'ARGV[1]', 'ARGV[2]', "'0'")}
return {'go'}
`);

// KEYS: rate budget. ARGV: limit, remaining, reset ms.
const observeScript = defineScript(`
${observeWindowLua('KEYS[1]', 'ARGV[1]', 'ARGV[2]', 'ARGV[3]')}
return 1
`);

export interface ReadBudget {
  /** BullMQ's limiter of the workers (limiterFor(RATE_LIMIT_PER_MINUTE)). */
  limiter: Budget;
  /** RATE_LIMIT_RESERVE: the fraction of the key's window left to urgent calls. */
  reserve: number;
}

/** Wait for, and take, one call of both budgets (aborts with `signal`). */
export async function takeReadCall(
  redis: Redis,
  keys: Keys,
  budget: ReadBudget,
  signal?: AbortSignal,
): Promise<void> {
  await spendBudget(redis, keys, budget.limiter, signal);
  for (;;) {
    signal?.throwIfAborted();
    const reply = (await takeScript(redis, [keys.rateBudget], [Date.now(), budget.reserve])) as [
      string,
      number?,
    ];
    if (reply[0] === 'go') return;
    await sleep(Math.min(Math.max(1, reply[1] ?? 1), 1_000), undefined, { signal });
  }
}

/** What an answer said about the key's window (nothing without rate-limit headers). */
export async function observeReadAnswer(
  redis: Redis,
  keys: Keys,
  rateLimit: RateLimitInfo | undefined,
): Promise<void> {
  if (!rateLimit) return;
  await observeScript(
    redis,
    [keys.rateBudget],
    [rateLimit.limit, rateLimit.remaining, rateLimit.resetAtMs],
  );
}
