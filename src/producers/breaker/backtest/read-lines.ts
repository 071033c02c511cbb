/**
 * History lines into a {@link SignalLog}: each line (or stored webhook body) is either a signal
 * exactly as `POST /v1/signals` takes it (signals.ts), or a Sendmux webhook body, whose account
 * is found as the server finds it (resolve.ts; for a backtest: the sender map only, unless the
 * caller's resolver knows more). What is not a signal is counted as skipped, by reason, never
 * thrown.
 */
import { StringDecoder } from 'node:string_decoder';
import { IntentValidationError } from '../../../errors.js';
import type { Resolver } from '../resolve.js';
import { countKind, parseSignal, type Signal } from '../signals.js';
import { parseWebhook, signalOf } from '../webhook-events.js';
import { KIND } from './evaluate.js';
import type { SignalLog } from './signal-log.js';

export interface LineReader {
  /**
   * One line: `where` names it in skip reasons (a line number, an entry id); `seenMs` is when the
   * breaker saw it (undefined: when it happened, as for a file).
   */
  add(line: string, where: string | number, seenMs?: number): Promise<void> | void;
}

function isWebhookShape(raw: unknown): boolean {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    !Array.isArray(raw) &&
    'type' in raw &&
    'data' in raw &&
    !('outcome' in raw)
  );
}

function problemOf(err: unknown): string {
  if (err instanceof IntentValidationError) return err.problems.join('; ');
  return err instanceof Error ? err.message : String(err);
}

/** Reads lines into `log`; webhook bodies are resolved to an account with `resolver`. */
export function lineReader(log: SignalLog, resolver: Pick<Resolver, 'resolve'>): LineReader {
  const push = (s: Signal, seenMs: number | undefined) => {
    const occurred = Date.parse(s.occurred_at);
    log.push(s.account_id, KIND[countKind(s)], s.id, occurred, seenMs ?? occurred);
  };

  async function webhook(line: string, where: string | number, seenMs: number | undefined) {
    const parsed = parseWebhook(line);
    if (!parsed.ok) {
      log.skip(`invalid webhook body: ${parsed.problem}`, where);
      return;
    }
    if (!parsed.outcome) {
      log.skip(`not a signal: webhook type ${parsed.event.type}`, where);
      return;
    }
    const account = await resolver.resolve(parsed.ref);
    if (account.result !== 'resolved') {
      log.skip(
        account.result === 'ambiguous'
          ? 'webhook account ambiguous (several accounts could have sent it)'
          : 'webhook account not resolved (sender not in the sender map)',
        where,
      );
      return;
    }
    try {
      push(parseSignal(signalOf(parsed.event, parsed.outcome, account.accountId)), seenMs);
    } catch (err) {
      log.skip(`invalid webhook signal: ${problemOf(err)}`, where);
    }
  }

  return {
    add(line, where, seenMs) {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        log.skip('not JSON', where);
        return;
      }
      if (isWebhookShape(raw)) return webhook(line, where, seenMs);
      try {
        push(parseSignal(raw), seenMs);
      } catch (err) {
        log.skip(`invalid signal: ${problemOf(err)}`, where);
      }
    },
  };
}

/** Every line of a stream (a file, stdin) through `reader`, numbered from 1. */
export async function readLines(
  input: AsyncIterable<string | Buffer>,
  reader: LineReader,
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of input) {
    // A character split between two chunks is decoded whole.
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const r = reader.add(text.slice(start, nl), ++n);
      if (r !== undefined) await r;
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') {
    const r = reader.add(rest, ++n);
    if (r !== undefined) await r;
  }
  return n;
}
