/**
 * What the API says about a run's accounts before its pass: what each is now (a deactivate
 * run's hold `before`) and which are the shared ones to leave out.
 */
import { UsageError } from '../../errors.js';
import type { ProviderItem } from '../../sendmux/schemas.js';
import { seenOf, type Seen } from '../../store/hold-record.js';
import { readAccounts, READ_ONE_BY_ONE } from '../account-states.js';
import { isShared, sharedAccountIds } from './accounts.js';
import type { Input } from './input.js';
import type { BulkDeps, BulkRunOptions } from './types.js';

/**
 * A deactivate run with the API, before its pass: what each account is now (its hold's
 * `before`) and, unless they are included, the shared accounts to leave out, from one read:
 * the ids one by one when there are at most {@link READ_ONE_BY_ONE} of them (and a reader),
 * else the team's listing (one call per hundred accounts of the team). Accounts the API does
 * not know are left out of the map (`unknown`).
 */
export async function readTeamView(
  deps: BulkDeps,
  options: Pick<BulkRunOptions, 'includeShared'>,
  input: Input,
  valid: number | undefined,
): Promise<{ shared: Set<string> | undefined; seen: Map<string, Seen> }> {
  const seen = new Map<string, Seen>();
  const shared = new Set<string>();
  const note = (item: ProviderItem) => {
    seen.set(item.id, seenOf(item));
    if (isShared(item)) shared.add(item.id);
  };
  if (deps.reader && valid !== undefined && valid <= READ_ONE_BY_ONE) {
    const ids = new Set<string>();
    for await (const batch of input.lines()) for (const l of batch) if (l.id) ids.add(l.id);
    for (const item of (await readAccounts(deps.reader, [...ids])).values()) {
      if (item) note(item);
    }
  } else if (deps.accounts) {
    for await (const item of deps.accounts.list({})) note(item);
  } else if (deps.reader) {
    for await (const item of deps.reader.list()) note(item);
  }
  return { shared: options.includeShared ? undefined : shared, seen };
}

/** The shared accounts' ids to leave out; undefined when they are included. */
export async function sharedGuard(
  deps: BulkDeps,
  options: Pick<BulkRunOptions, 'includeShared' | 'source'>,
): Promise<Set<string> | undefined> {
  if (options.includeShared) return undefined;
  // A listing says, account by account, which one is shared.
  if (options.source.kind === 'filter') return new Set();
  if (!deps.accounts) {
    throw new UsageError(
      'bulk: keeping the shared account out needs the API (SENDMUX_API_KEY) to find it; --include-shared skips the check',
    );
  }
  return sharedAccountIds(deps.accounts);
}
