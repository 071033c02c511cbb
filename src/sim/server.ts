/** startSimulator: builds the fastify app, listens, and exposes the control surface. */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { ADMIN_PREFIX, adminRoutes, setAccountStatus } from './admin.js';
import { createContext, resetContext } from './context.js';
import { addDeliveryLogs } from './delivery-logs.js';
import { API_PREFIX, apiRoutes, errorHandler, notFound } from './routes.js';
import type {
  DeliveryLogItem,
  ProviderItem,
  SimDeliveryLogInput,
  SimFaults,
  SimLogEntry,
  SimSettableStatus,
  SimStep,
  Simulator,
  SimulatorOptions,
} from './types.js';

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const ctx = createContext(opts);
  const app = Fastify({ logger: false, forceCloseConnections: true, return503OnClosing: false });
  const reset = (): void => {
    resetContext(ctx);
  };
  app.setNotFoundHandler(notFound(ctx));
  app.setErrorHandler(errorHandler(ctx));
  await app.register(apiRoutes(ctx), { prefix: API_PREFIX });
  await app.register(adminRoutes(ctx, reset), { prefix: ADMIN_PREFIX });
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });

  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  let closing: Promise<void> | undefined;

  return {
    url: `${origin}${API_PREFIX}`,
    origin,
    app,
    stats: () => ctx.stats.snapshot(),
    setFaults: (f: Partial<SimFaults>) => {
      ctx.faults.set(f);
    },
    script: (providerId: string, steps: SimStep[]) => {
      ctx.faults.script(providerId, steps);
    },
    setKeyRevoked: (revoked: boolean) => {
      ctx.auth.revoked = revoked;
    },
    account: (id: string): ProviderItem | undefined => {
      const acc = ctx.accounts.get(id);
      return acc === undefined ? undefined : structuredClone(acc.item);
    },
    setAccountStatus: (id: string, status: SimSettableStatus): ProviderItem | undefined =>
      setAccountStatus(ctx, id, status)?.item,
    setReadable: (id: string, readable: boolean) => {
      ctx.faults.setReadable(id, readable);
    },
    log: (): SimLogEntry[] => ctx.log.snapshot(),
    addDeliveryLogs: (items: SimDeliveryLogInput[]): DeliveryLogItem[] => {
      const added = addDeliveryLogs(ctx, items);
      if (!added.ok) throw new RangeError(`addDeliveryLogs: ${added.message}`);
      return added.items;
    },
    reset,
    close: () => {
      closing ??= (async () => {
        for (const t of ctx.timers) clearTimeout(t);
        ctx.timers.clear();
        const done = app.close();
        app.server.closeAllConnections();
        await done;
      })();
      return closing;
    },
  };
}
