/**
 * At most `limit` tasks at once: `add` resolves once there is room again; `drain` waits for the
 * rest. The first failure is thrown (by `add` or `drain`); the others are awaited, not lost.
 */
export function boundedConcurrency(limit: number) {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  return {
    async add(task: Promise<void>): Promise<void> {
      const tracked: Promise<void> = task
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(tracked));
      running.add(tracked);
      if (running.size >= limit) await Promise.race(running);
      if (failure) {
        await Promise.all(running);
        throw failure.error;
      }
    },
    async drain(): Promise<void> {
      await Promise.all(running);
      if (failure) throw failure.error;
    },
  };
}
