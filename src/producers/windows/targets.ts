/** A start's first read: what each of a window's target accounts is now (through the rate budget). */
import type { ProviderItem } from '../../sendmux/schemas.js';
import { seenOf } from '../../store/hold-record.js';
import type { TargetRead } from '../../store/window-holds.js';
import { listWithRetry, readEachWithRetry, READ_ONE_BY_ONE } from '../account-states.js';
import type { WindowTargets } from './spec.js';
import type { WindowsDeps } from './types.js';

/**
 * What each target account is now: a filter listed, explicit ids read one by one (or listed,
 * for many). Failed reads are retried with backoff through the rate budget; an account that
 * stays unreadable is still held and switched off (its base is then what the project last
 * recorded). A listing that keeps failing fails the step (it is retried): without it the
 * targets are not known.
 */
export async function readTargets(
  deps: WindowsDeps,
  windowId: string,
  targets: WindowTargets,
): Promise<TargetRead[]> {
  const { signal } = deps;
  const retry = { ...deps.retry, signal };
  const seen = (item: ProviderItem): TargetRead => ({
    accountId: item.id,
    read: 'seen',
    seen: seenOf(item),
  });
  if (targets.kind === 'filter') {
    const lister = deps.lister;
    if (!lister) throw new Error('a filter window needs the API (SENDMUX_API_KEY)');
    return (await listWithRetry(() => lister.list(targets.filter, signal), retry)).map(seen);
  }
  const reader = deps.reader;
  if (!reader) throw new Error('starting a window needs the API (SENDMUX_API_KEY)');
  const ids = [...new Set(targets.ids)];
  if (ids.length > READ_ONE_BY_ONE) {
    const wanted = new Set(ids);
    const found = new Map<string, ProviderItem>();
    for (const item of await listWithRetry(() => reader.list(signal), retry)) {
      if (wanted.has(item.id)) found.set(item.id, item);
    }
    return ids.map((id) => {
      const item = found.get(id);
      return item ? seen(item) : { accountId: id, read: 'missing' };
    });
  }
  return (await readEachWithRetry(reader, ids, retry)).map((r) => {
    if (r.read === 'seen') return seen(r.item);
    if (r.read === 'unreadable') {
      deps.log?.warn(
        { window_id: windowId, account_id: r.accountId, err: r.error },
        'a window target could not be read: it is held and switched off all the same',
      );
    }
    return { accountId: r.accountId, read: r.read };
  });
}
