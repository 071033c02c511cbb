/**
 * How a job that made its call ends (processor.ts decides which): succeeded (recorded, with the
 * account's answer), failed (recorded, then UnrecoverableError), or verified first: a failure
 * whose effect may be in place reads the account and succeeds if it is in the asked state.
 */
import { UnrecoverableError } from 'bullmq';
import type { Logger } from '../logger.js';
import { isInAskedState } from '../model.js';
import type { ActionJobData, ActionJobResult } from '../queue/queue.js';
import type { AccountAnswer } from '../sendmux/account-answer.js';
import type { ApiResult, SendmuxClient } from '../sendmux/client.js';
import type { Outcome, OutcomeBase, RecordResult } from '../store/record-outcome.js';
import type { Answer } from './policy.js';

/** One job's run, as its endings need it. */
export interface EndingContext {
  client: SendmuxClient;
  log: Logger;
  intent: ActionJobData;
  signal: AbortSignal | undefined;
  /** The job's log fields. */
  where: () => Record<string, unknown>;
  base: (attempts: number) => OutcomeBase;
  record: (o: Outcome) => Promise<RecordResult>;
  /** The call's result, when it answered 2xx. */
  result: ApiResult<AccountAnswer> | undefined;
}

export function jobEndings(ctx: EndingContext) {
  const { client, log, intent, signal, where, base, record, result } = ctx;

  async function succeed(r: ApiResult<AccountAnswer>, attempts: number): Promise<ActionJobResult> {
    const recorded = await record({
      ...base(attempts),
      outcome: 'succeeded',
      account: r.data,
      requestId: r.requestId || null,
      httpStatus: r.status,
      rateLimit: r.rateLimit,
    });
    // One line per success would dominate the worker's cost at scale: debug only; the
    // worker logs a summary at intervals, and the events stream is the record.
    if (log.isLevelEnabled('debug')) {
      log.debug(
        {
          ...where(),
          attempt: attempts,
          request_id: r.requestId,
          status: r.data.status,
          recorded,
        },
        `${intent.action} succeeded`,
      );
    }
    return { outcome: 'succeeded', status: r.data.status, request_id: r.requestId || null };
  }

  async function fail(a: Answer, attempts: number, why: string, code?: string): Promise<never> {
    const err = a.kind === 'error' ? a.error : undefined;
    const recorded = await record({
      ...base(attempts),
      outcome: 'failed',
      httpStatus: err?.status ?? (a.kind === 'ok' ? (result?.status ?? null) : null),
      errorCode: code ?? err?.code ?? 'worker_error',
      errorMessage: why,
      requestId: err?.requestId ?? (a.kind === 'ok' ? (result?.requestId ?? null) : null),
      rateLimit: err?.rateLimit ?? result?.rateLimit,
    });
    log.error(
      {
        ...where(),
        attempt: attempts,
        request_id: err?.requestId,
        http_status: err?.status,
        error_code: code ?? err?.code,
        recorded,
      },
      `${intent.action} failed: ${why}`,
    );
    throw new UnrecoverableError(why);
  }

  /** Before reporting a failure whose effect may be in place: read the account. */
  async function verify(a: Answer, attempts: number, why: string): Promise<ActionJobResult> {
    let read: ApiResult<AccountAnswer> | undefined;
    try {
      read = await client.readAccount(intent.accountId, { signal });
    } catch (err) {
      log.warn(
        { ...where(), err: String(err) },
        'could not read the account to verify the outcome',
      );
    }
    if (read && read.data.id === intent.accountId && isInAskedState(intent.action, read.data)) {
      log.info(
        { ...where(), request_id: read.requestId, status: read.data.status },
        `${intent.action}: the account is in the asked state (${why})`,
      );
      return succeed(read, attempts);
    }
    return fail(a, attempts, why);
  }

  return { succeed, fail, verify };
}
