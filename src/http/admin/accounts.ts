/**
 * The admin API's reads of accounts, holds and events: GET /v1/accounts[/:account],
 * GET /v1/holds[/:account] and GET /v1/events, their specs and handlers.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../model.js';
import { accountsWithHolds } from '../../ops/account-status.js';
import { readAccountHolds } from '../../ops/holds.js';
import { readRecentEvents } from '../../store/events.js';
import { listStatuses } from '../../store/status-record.js';
import {
  accountHoldsSchema,
  accountHoldsView,
  accountSchema,
  accountsListSchema,
  accountView,
  eventsListSchema,
  eventView,
  holdsListSchema,
} from '../../wire/index.js';
import { routeFromSpec, type RouteSpec } from '../api-spec.js';
import { accountParams, limit, type RegisterRoutes } from './fields.js';

export const getAccounts = {
  method: 'GET',
  path: '/accounts',
  tag: 'accounts',
  summary: 'Recorded account statuses with their holds, most recently changed first',
  query: z.object({ limit: limit(1_000).default(100) }),
  responses: { 200: '`{ accounts: [...] }`' },
  answers: { 200: accountsListSchema },
} satisfies RouteSpec;

export const getAccount = {
  method: 'GET',
  path: '/accounts/:account',
  tag: 'accounts',
  summary: "One account's recorded status and holds (nulls when nothing is recorded)",
  params: accountParams,
  responses: { 200: 'The account.', 400: 'Not an account id.' },
  answers: { 200: accountSchema },
} satisfies RouteSpec;

export const getHolds = {
  method: 'GET',
  path: '/holds',
  tag: 'accounts',
  summary: 'Every held account: which sources keep it off, and its state before',
  query: z.object({ limit: limit(100_000).default(1_000) }),
  responses: { 200: '`{ accounts: [...] }`' },
  answers: { 200: holdsListSchema },
} satisfies RouteSpec;

export const getAccountHolds = {
  method: 'GET',
  path: '/holds/:account',
  tag: 'accounts',
  summary: "One account's holds",
  params: accountParams,
  responses: { 200: '`{ account_id, holds, before, since }`', 400: 'Not an account id.' },
  answers: { 200: accountHoldsSchema },
} satisfies RouteSpec;

export const getEvents = {
  method: 'GET',
  path: '/events',
  tag: 'events',
  summary: 'The most recent events, oldest first',
  query: z.object({
    type: z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }).optional(),
    limit: limit(10_000).default(100),
  }),
  responses: { 200: '`{ events: [...] }`' },
  answers: { 200: eventsListSchema },
} satisfies RouteSpec;

export const registerAccountRoutes: RegisterRoutes = (app, { config, redis, keys }) => {
  const withHolds = async (ids: readonly string[]) =>
    (await accountsWithHolds(redis, keys, ids)).accounts;

  app.get(
    getAccounts.path,
    routeFromSpec(getAccounts, async ({ query }, _req, reply) => {
      const recorded = await listStatuses(redis, keys, query.limit);
      const accounts = await withHolds(recorded.map((s) => s.account_id));
      return reply.send({ accounts: accounts.map(accountView) });
    }),
  );
  app.get(
    getAccount.path,
    routeFromSpec(getAccount, async ({ params }, _req, reply) => {
      const [one] = await withHolds([params.account]);
      return reply.send(one && accountView(one));
    }),
  );
  app.get(
    getHolds.path,
    routeFromSpec(getHolds, async ({ query }, _req, reply) =>
      reply.send({
        accounts: (await readAccountHolds(redis, config.prefix, [], query.limit)).map(
          accountHoldsView,
        ),
      }),
    ),
  );
  app.get(
    getAccountHolds.path,
    routeFromSpec(getAccountHolds, async ({ params }, _req, reply) => {
      const [holds] = await readAccountHolds(redis, config.prefix, [params.account]);
      return reply.send(holds && accountHoldsView(holds));
    }),
  );

  app.get(
    getEvents.path,
    routeFromSpec(getEvents, async ({ query }, _req, reply) =>
      reply.send({ events: (await readRecentEvents(redis, keys, query)).map(eventView) }),
    ),
  );
};
