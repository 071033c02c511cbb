/** The ids a window's steps use: its hold on each account, and the intents' idempotency keys. */

export const windowHoldId = (windowId: string, occurrence: string) =>
  `window:${windowId}:${occurrence}`;
export const windowKey = (windowId: string, occurrence: string, accountId: string) =>
  `window:${windowId}:${occurrence}:${accountId}`;
/** The activation key of an occurrence's end, around the account id. */
export const endKeyAround = (windowId: string, occurrence: string) =>
  [windowKey(windowId, occurrence, ''), ':end'] as const;
/** The activation key of an occurrence's end. */
export const endKey = (windowId: string, occurrence: string, accountId: string) => {
  const [head, tail] = endKeyAround(windowId, occurrence);
  return `${head}${accountId}${tail}`;
};
