/**
 * The admin API's reads of accounts, holds and events: GET /v1/accounts[/:account] (a page of
 * recorded accounts, searched by id, served from the status index: store/status-search.ts),
 * GET /v1/holds[/:account] and GET /v1/events, their specs and handlers.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../../model.js';
import { accountsWithHolds } from '../../ops/account-status.js';
import { readAccountHolds } from '../../ops/holds.js';
import { readRecentEvents } from '../../store/events.js';
import { CURSOR_RULE, CURSOR_RULE_TEXT, pageStatuses } from '../../store/status-search.js';
import {
  accountSchema,
  accountsListSchema,
  accountView,
  eventsListSchema,
  eventView,
  heldAccountSchema,
  heldAccountView,
  holdsListSchema,
} from '../../wire/index.js';
import { routeFromSpec, type RouteSpec } from '../api-spec.js';
import { accountParams, limit, type RegisterRoutes } from './fields.js';

export const getAccounts = {
  method: 'GET',
  path: '/accounts',
  tag: 'accounts',
  summary:
    'Recorded account statuses with their holds, most recently changed first, a page at a time; `q` keeps the accounts whose id contains it',
  description:
    'Served from the status index without loading it: a page walks it from `cursor` and stops at `limit` accounts or after 250,000 examined. `next_cursor` (null: no more) asks for the next page; a search page may hold fewer than `limit` accounts with a `next_cursor` when the walk stopped before the end.',
  query: z.object({
    limit: limit(1_000).default(100),
    q: z
      .string({ error: 'must be a string' })
      .regex(/^[A-Za-z0-9_-]{1,134}$/, {
        error: 'must be 1 to 134 letters, digits, `_` or `-` (part of an account id)',
      })
      .optional(),
    cursor: z
      .string({ error: 'must be a string' })
      .regex(CURSOR_RULE, { error: CURSOR_RULE_TEXT })
      .optional(),
  }),
  responses: { 200: '`{ accounts: [...], next_cursor }`' },
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
  summary:
    'Every held account: which sources keep it off, its state before, and whether it is still on (its deactivation failed: the failure and the next step)',
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
  responses: {
    200: '`{ account_id, holds, before, since, still_on, last_failure, next_step }`',
    400: 'Not an account id.',
  },
  answers: { 200: heldAccountSchema },
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
      const page = await pageStatuses(redis, keys, query);
      const accounts = await withHolds(page.ids);
      return reply.send({ accounts: accounts.map(accountView), next_cursor: page.nextCursor });
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
          heldAccountView,
        ),
      }),
    ),
  );
  app.get(
    getAccountHolds.path,
    routeFromSpec(getAccountHolds, async ({ params }, _req, reply) => {
      const [holds] = await readAccountHolds(redis, config.prefix, [params.account]);
      return reply.send(holds && heldAccountView(holds));
    }),
  );

  app.get(
    getEvents.path,
    routeFromSpec(getEvents, async ({ query }, _req, reply) =>
      reply.send({ events: (await readRecentEvents(redis, keys, query)).map(eventView) }),
    ),
  );
};
