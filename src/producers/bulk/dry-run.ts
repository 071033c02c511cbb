/** A bulk run's dry run: what a run would do, from the API's view of each account. */
import { UsageError } from '../../errors.js';
import type { Action } from '../../model.js';
import type { ProviderItem } from '../../sendmux/schemas.js';
import { BATCH_ID_RULE, BATCH_ID_RULE_TEXT } from '../../store/batch-record.js';
import { verdictOf, type DryRunVerdict } from './accounts.js';
import { newBatchId } from './batch-ids.js';
import { checkInput, openInput } from './input.js';
import type { BulkDeps, BulkRunOptions } from './types.js';

export interface DryRunReport {
  batchId: string;
  action: Action;
  input: string;
  /** Valid ids read (repeats included). */
  read: number;
  /** How many accounts a run would enqueue. */
  wouldEnqueue: number;
  /** Those accounts, in input order. */
  wouldEnqueueIds: string[];
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
      wouldEnqueueIds: [],
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
        if (verdict === 'would_enqueue') {
          report.wouldEnqueue++;
          report.wouldEnqueueIds.push(l.id);
        } else lists[verdict].push(l.id);
      }
    }
    return report;
  } finally {
    await input.close();
  }
}
