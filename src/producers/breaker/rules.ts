/**
 * The breaker's rules: global ones from the settings, per-account ones from
 * BREAKER_ACCOUNT_RULES (JSON; unset fields take the global value). Two levels per rule, as SES
 * has them: hard bounces over (delivered + bounced) warn at 5 % and trip at 10 % with at least
 * 100 of those over 15 minutes; complaints over delivered warn at 0.1 % and trip at 0.5 % with
 * at least 1,000 delivered. A warning level left unset is the default one, or the trip level
 * when that is lower (then there is no separate warning): BREAKER_BOUNCE_RATE set before warning
 * levels existed keeps meaning where the breaker trips.
 */
import { z } from 'zod';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT, BREAKER_MODES } from '../../model.js';
import type { BreakerRules } from '../../store/breaker-trip.js';

export type { BreakerRules };

/** Warning levels when none is set (SES's "under review" levels). */
export const DEFAULT_BOUNCE_WARN_RATE = 0.05;
export const DEFAULT_COMPLAINT_WARN_RATE = 0.001;

const rate = z.number().min(0, { error: 'must be >= 0' }).max(1, { error: 'must be <= 1' });
const volume = z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be >= 1' });
export const accountRulesSchema = z.strictObject({
  mode: z.enum(BREAKER_MODES, { error: 'must be act, warn or watch' }).optional(),
  window_s: z.number().int().min(60).max(86_400).optional(),
  bounce_rate: rate.optional(),
  bounce_warn_rate: rate.optional(),
  bounce_min_volume: volume.optional(),
  complaint_rate: rate.optional(),
  complaint_warn_rate: rate.optional(),
  complaint_min_volume: volume.optional(),
});
/** One account's entry in BREAKER_ACCOUNT_RULES (or a candidate rule set's, `breaker backtest --rules`). */
export type AccountRulesInput = z.infer<typeof accountRulesSchema>;

/**
 * The rules of an account; `accounts`: the ids with rules of their own (BREAKER_ACCOUNT_RULES),
 * when known.
 */
export type RulesFor = ((accountId: string) => BreakerRules) & { accounts?: readonly string[] };

/** A warning level: the one set (never above the trip level), else the default capped by it. */
function warnLevel(
  set: number | undefined,
  fallback: number,
  trip: number,
  what: string,
  tripName: string,
): number {
  if (set === undefined) return Math.min(fallback, trip);
  if (set > trip) throw new ConfigError([`${what}: must be <= ${tripName} (${trip}); got ${set}`]);
  return set;
}

/** The global rules of the settings (BREAKER_*); throws a ConfigError naming the variable. */
export function globalBreakerRules(config: Config): BreakerRules {
  return {
    mode: config.breakerMode,
    ownMode: false,
    windowS: config.breakerWindowS,
    bounceRate: config.breakerBounceRate,
    bounceWarnRate: warnLevel(
      config.breakerBounceWarnRate,
      DEFAULT_BOUNCE_WARN_RATE,
      config.breakerBounceRate,
      'BREAKER_BOUNCE_WARN_RATE',
      'BREAKER_BOUNCE_RATE',
    ),
    bounceMinVolume: config.breakerBounceMinVolume,
    complaintRate: config.breakerComplaintRate,
    complaintWarnRate: warnLevel(
      config.breakerComplaintWarnRate,
      DEFAULT_COMPLAINT_WARN_RATE,
      config.breakerComplaintRate,
      'BREAKER_COMPLAINT_WARN_RATE',
      'BREAKER_COMPLAINT_RATE',
    ),
    complaintMinVolume: config.breakerComplaintMinVolume,
  };
}

/**
 * `base` with an entry's fields set over it (unset fields keep base's; an unset warning level is
 * base's, capped by the trip level). `where` names the entry in errors (a ConfigError).
 */
export function applyRules(base: BreakerRules, r: AccountRulesInput, where: string): BreakerRules {
  const bounceRate = r.bounce_rate ?? base.bounceRate;
  const complaintRate = r.complaint_rate ?? base.complaintRate;
  return {
    mode: r.mode ?? base.mode,
    ownMode: r.mode !== undefined,
    windowS: r.window_s ?? base.windowS,
    bounceRate,
    bounceWarnRate: warnLevel(
      r.bounce_warn_rate,
      base.bounceWarnRate,
      bounceRate,
      `${where}.bounce_warn_rate`,
      `its bounce_rate`,
    ),
    bounceMinVolume: r.bounce_min_volume ?? base.bounceMinVolume,
    complaintRate,
    complaintWarnRate: warnLevel(
      r.complaint_warn_rate,
      base.complaintWarnRate,
      complaintRate,
      `${where}.complaint_warn_rate`,
      `its complaint_rate`,
    ),
    complaintMinVolume: r.complaint_min_volume ?? base.complaintMinVolume,
  };
}

/**
 * The rules of every account from a global set and per-account entries (`source` names where
 * they come from in errors: BREAKER_ACCOUNT_RULES, or a `--rules` file); throws a ConfigError
 * naming the account and the field.
 */
export function rulesFromEntries(
  global: BreakerRules,
  raw: unknown,
  source = 'BREAKER_ACCOUNT_RULES',
): RulesFor {
  const parsed = z.record(z.string(), accountRulesSchema).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${source}: ${i.path.map(String).join('.') || '(top)'} ${i.message}`,
      ),
    );
  }
  const perAccount = new Map<string, BreakerRules>();
  for (const [id, r] of Object.entries(parsed.data)) {
    if (!ACCOUNT_ID_RULE.test(id)) {
      throw new ConfigError([`${source}: "${id}" ${ACCOUNT_ID_RULE_TEXT}`]);
    }
    perAccount.set(id, applyRules(global, r, `${source}: ${id}`));
  }
  return Object.assign((accountId: string) => perAccount.get(accountId) ?? global, {
    accounts: [...perAccount.keys()],
  });
}

/** The rules of every account; throws a ConfigError naming BREAKER_ACCOUNT_RULES and the field. */
export function breakerRules(config: Config): RulesFor {
  const global = globalBreakerRules(config);
  let raw: unknown;
  try {
    raw = JSON.parse(config.breakerAccountRules);
  } catch {
    throw new ConfigError(['BREAKER_ACCOUNT_RULES: must be a JSON object']);
  }
  return rulesFromEntries(global, raw);
}

/** An account's levels as users read them (snake_case): the overview's breakers, the backtest. */
export function ruleLevels(r: BreakerRules) {
  return {
    window_s: r.windowS,
    bounce_rate: r.bounceRate,
    bounce_warn_rate: r.bounceWarnRate,
    bounce_min_volume: r.bounceMinVolume,
    complaint_rate: r.complaintRate,
    complaint_warn_rate: r.complaintWarnRate,
    complaint_min_volume: r.complaintMinVolume,
  };
}
