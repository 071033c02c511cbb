/**
 * The wire format: the zod schema of every JSON thing a user sees, and the pure functions that
 * turn store and producer types into it. Every HTTP answer, every CLI `--json` output and every
 * event as served, printed or notified goes through a view here, so the same thing has the same
 * shape everywhere: snake_case, with `account_id` for an account. The OpenAPI document
 * (http/openapi.ts) shows these schemas; test/integration/wire.test.ts checks each CLI/HTTP pair
 * against them.
 */
export * from './accounts.js';
export * from './actions.js';
export * from './backtest.js';
export * from './batches.js';
export * from './breakers.js';
export * from './common.js';
export * from './errors.js';
export * from './events.js';
export * from './overview.js';
export * from './service.js';
export * from './windows.js';
