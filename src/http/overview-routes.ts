/**
 * GET /v1/overview (admin, behind the token): what the status page shows, in one answer
 * (ops/overview.ts): accounts with status and holds, breakers with their current rates, running
 * and upcoming windows, the latest failed actions, webhook event counters with the latest
 * unresolved and ambiguous events. Bounded; `limits`, `totals` and `truncated` say how much
 * there was.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { Config } from '../config.js';
import { OVERVIEW_LIMITS, overviewReader } from '../ops/overview.js';
import type { Windows } from '../producers/windows/windows.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { overviewSchema, overviewView } from '../wire/index.js';
import { routeFromSpec, type RouteSpec } from './api-spec.js';

export const getOverview = {
  method: 'GET',
  path: '/overview',
  tag: 'overview',
  summary:
    'Everything the status page shows: accounts with status and holds, breakers with their current rates, running and upcoming windows, recent failed actions, webhook events counted for no account',
  description: `Bounded: at most ${OVERVIEW_LIMITS.accounts} accounts (held ones first, then the most recently changed), ${OVERVIEW_LIMITS.breakers} breakers (those holding an account first), the ${OVERVIEW_LIMITS.windows} newest windows, ${OVERVIEW_LIMITS.failures} \`action.failed\` events among the ${OVERVIEW_LIMITS.events_scanned} newest events, and the ${OVERVIEW_LIMITS.webhook_events} latest unresolved and the ${OVERVIEW_LIMITS.webhook_events} latest ambiguous webhook events. \`limits\`, \`totals\` and \`truncated\` say so.`,
  responses: {
    200: '`{ generated_at, limits, totals, truncated, accounts, breakers, windows: { available, running, upcoming }, failures, failures_scanned, webhooks: { results, unresolved, ambiguous }, can_reset_breakers }`',
  },
  answers: { 200: overviewSchema },
} satisfies RouteSpec;

/** The specs of this file, for the OpenAPI document. */
export const OVERVIEW_ROUTE_SPECS: readonly RouteSpec[] = [getOverview];

export function overviewRoutes(deps: {
  config: Config;
  redis: Redis;
  windows?: Pick<Windows, 'list'>;
  /** The server serves the breaker's routes (so a breaker can be reset from the page). */
  breaker: boolean;
}): FastifyPluginCallback {
  const read = overviewReader({
    config: deps.config,
    redis: deps.redis,
    windows: deps.windows,
    breakerRoutes: deps.breaker,
  });
  return (app, _opts, done) => {
    app.get(
      getOverview.path,
      routeFromSpec(getOverview, async (_parsed, _req, reply) =>
        reply.header('cache-control', 'no-store').send(overviewView(await read())),
      ),
    );
    done();
  };
}
