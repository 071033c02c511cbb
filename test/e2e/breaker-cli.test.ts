/** The `breaker` and `signal` commands as a user runs them: output, JSON fields, exit codes. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { keysFor } from '../../src/store/keys.js';
import { observeAccounts } from '../../src/store/observe-accounts.js';
import { runCli } from '../support/cli-process.js';
import { dropPrefix, testConfig } from '../support/context.js';
import { sharedFixtures } from '../support/leak-guard.js';

sharedFixtures();

const config = testConfig();
const env = {
  REDIS_URL: config.redisUrl,
  QUEUE_PREFIX: config.prefix,
  LOG_LEVEL: 'silent',
  BREAKER_BOUNCE_MIN_VOLUME: '3',
  BREAKER_BOUNCE_RATE: '0.5',
};

afterAll(async () => {
  await dropPrefix(config.prefix);
});

async function knownActive(accountId: string): Promise<void> {
  const redis = new Redis(config.redisUrl);
  try {
    await observeAccounts(redis, keysFor(config.prefix), [
      { id: accountId, status: 'active', is_active: true, status_reason: null, updated_at: null },
    ]);
  } finally {
    await redis.quit();
  }
}

describe('breaker CLI', () => {
  it('signal counts once per id and trips on the crossing one; status shows it; reset brings it back', async () => {
    // What the breaker service's account listing would have recorded: the account is on.
    await knownActive('dprov_cli1');
    const send = (id: string) =>
      runCli(
        ['signal', 'dprov_cli1', 'bounced', '--id', id, '--bounce-type', 'Permanent', '--json'],
        env,
      );
    expect(JSON.parse((await send('e1')).stdout)).toEqual({ result: 'counted' });
    expect(JSON.parse((await send('e1')).stdout)).toEqual({ result: 'duplicate' });
    expect(JSON.parse((await send('e2')).stdout)).toEqual({ result: 'counted' });
    const third = await send('e3');
    expect(third.code).toBe(0);
    const tripped = JSON.parse(third.stdout) as {
      result: string;
      trip_id: string;
      idempotency_key: string;
    };
    expect(tripped).toMatchObject({ result: 'tripped', reason: 'bounce_rate' });

    const status = await runCli(['breaker', 'status', 'dprov_cli1', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      account_id: 'dprov_cli1',
      state: 'open',
      trips: 1,
      window: { hard_bounced: 3, bounce_rate: 1 },
      last_trip: {
        trip_id: tripped.trip_id,
        reason: 'bounce_rate',
        idempotency_key: tripped.idempotency_key,
      },
      holds: { holds: [{ id: 'breaker', source: 'breaker' }] },
    });
    const table = await runCli(['breaker', 'status'], env);
    expect(table.stdout).toMatch(/dprov_cli1\s+open\s+act\s+-\s+100\.00% \(3\/3\)/);

    const reset = await runCli(['breaker', 'reset', 'dprov_cli1'], env);
    expect(reset).toMatchObject({ code: 0 });
    expect(reset.stdout).toContain(
      `activation enqueued with key breaker:dprov_cli1:${tripped.trip_id}:reset`,
    );
    const again = await runCli(['breaker', 'reset', 'dprov_cli1'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error: the breaker of dprov_cli1 is not open: nothing done');
  });

  it('trip by hand, then again: tripped, then refused (state_conflict: open already)', async () => {
    const first = await runCli(
      ['breaker', 'trip', 'dprov_cli2', '--reason', 'provider block'],
      env,
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^tripped dprov_cli2 \(trip \d+-1\); deactivation enqueued with key breaker:dprov_cli2:/,
    );
    const second = await runCli(['breaker', 'trip', 'dprov_cli2', '--json'], env);
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stdout)).toEqual({
      error: {
        code: 'state_conflict',
        message: 'the breaker of dprov_cli2 is open already: nothing done',
      },
    });
    // Nothing was ever read or recorded of it: its base is unknown, so a reset leaves it off
    // and says what switches it on.
    const reset = await runCli(['breaker', 'reset', 'dprov_cli2'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain(
      'it stays off: what it is without holds is unknown (never read, nothing recorded); `sendmux-deactivator activate dprov_cli2` switches it on',
    );
  });

  it('breaker mode: sets, shows and clears the default and an account, recorded with the actor', async () => {
    const ownRules = { ...env, BREAKER_ACCOUNT_RULES: '{"dprov_own": {"mode": "watch"}}' };
    const before = await runCli(['breaker', 'mode'], ownRules);
    expect(before.code).toBe(0);
    expect(before.stdout).toBe(
      'default: act (from BREAKER_MODE)\ndprov_own: watch (from BREAKER_ACCOUNT_RULES)\n',
    );
    const set = await runCli(['--actor', 'carol', 'breaker', 'mode', '--default', 'warn'], env);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('the default: (settings) -> warn\n');
    const again = await runCli(['breaker', 'mode', '--default', 'warn'], env);
    expect(again.stdout).toBe('the default: warn already; nothing changed\n');
    const account = await runCli(['breaker', 'mode', 'dprov_cli4', 'watch', '--json'], env);
    expect(JSON.parse(account.stdout)).toEqual({
      account_id: 'dprov_cli4',
      mode: 'watch',
      previous: null,
      changed: true,
    });
    const shown = await runCli(['breaker', 'mode', '--json'], env);
    expect(JSON.parse(shown.stdout)).toEqual({
      default: { mode: 'warn', from: 'runtime', settings: 'act' },
      accounts: [{ account_id: 'dprov_cli4', mode: 'watch', from: 'runtime' }],
    });
    const status = await runCli(['breaker', 'status', 'dprov_cli4', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({
      mode: { mode: 'watch', from: 'runtime_account' },
    });
    const cleared = await runCli(['breaker', 'mode', 'dprov_cli4', 'clear'], env);
    expect(cleared.stdout).toBe('dprov_cli4: run-time mode watch cleared; the settings apply\n');
    await runCli(['breaker', 'mode', '--default', 'clear'], env);
    const events = await runCli(['events', '--type', 'breaker.mode_changed'], env);
    expect(events.stdout).toMatch(
      /breaker\.mode_changed default {2}\(settings\) -> warn {2}by=carol/,
    );
    expect(events.stdout.trim().split('\n')).toHaveLength(4);
    const bad = await runCli(['breaker', 'mode', 'dprov_cli4', 'pause'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('mode: must be act, warn, watch or clear; got "pause"');
    const noAccount = await runCli(['breaker', 'mode', 'nope', 'watch'], env);
    expect(noAccount.code).toBe(2);
    expect(noAccount.stderr).toContain('account: "nope" must be a sending account id');
    const badSetting = await runCli(['breaker', 'mode'], { ...env, BREAKER_MODE: 'pause' });
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toContain('BREAKER_MODE');
    const badWarn = await runCli(['breaker', 'mode'], { ...env, BREAKER_BOUNCE_WARN_RATE: '0.6' });
    expect(badWarn.code).toBe(2);
    expect(badWarn.stderr).toContain(
      'BREAKER_BOUNCE_WARN_RATE: must be <= BREAKER_BOUNCE_RATE (0.5)',
    );
  });

  it('bad input: exit 2 naming the argument and the rule', async () => {
    const badId = await runCli(['breaker', 'trip', 'nope'], env);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('account: "nope" must be a sending account id');
    const badOutcome = await runCli(['signal', 'dprov_cli3', 'opened', '--id', 'x'], env);
    expect(badOutcome.code).toBe(2);
    expect(badOutcome.stderr).toContain(
      '<outcome> must be one of delivered, bounced, complained, rejected',
    );
    const badRules = await runCli(['breaker', 'status'], {
      ...env,
      BREAKER_ACCOUNT_RULES: '{"dprov_a": {"bounce_rate": 2}}',
    });
    expect(badRules.code).toBe(2);
    expect(badRules.stderr).toContain('BREAKER_ACCOUNT_RULES: dprov_a.bounce_rate must be <= 1');
    const badRate = await runCli(['breaker', 'status'], { ...env, BREAKER_BOUNCE_RATE: '5%' });
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toContain('BREAKER_BOUNCE_RATE');
  });
});
