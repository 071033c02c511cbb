/**
 * The breaker's rules: global ones from the settings, per-account ones from
 * BREAKER_ACCOUNT_RULES (JSON; unset fields take the global value). Defaults follow Sendmux's
 * and SES's published levels: hard bounces >= 5 % of (delivered + bounced) with at least 100
 * of those over 15 minutes, or complaints >= 0.1 % of delivered with at least 1,000 delivered.
 */
import { z } from 'zod';
import type { Config } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { ACCOUNT_ID_RULE, ACCOUNT_ID_RULE_TEXT } from '../../model.js';
import type { BreakerRules } from '../../store/breaker-trip.js';

export type { BreakerRules };

const rate = z.number().min(0, { error: 'must be >= 0' }).max(1, { error: 'must be <= 1' });
const volume = z.number().int({ error: 'must be an integer' }).min(1, { error: 'must be >= 1' });
const accountRules = z.strictObject({
  window_s: z.number().int().min(60).max(86_400).optional(),
  bounce_rate: rate.optional(),
  bounce_min_volume: volume.optional(),
  complaint_rate: rate.optional(),
  complaint_min_volume: volume.optional(),
});

export type RulesFor = (accountId: string) => BreakerRules;

/** The rules of every account; throws a ConfigError naming BREAKER_ACCOUNT_RULES and the field. */
export function breakerRules(config: Config): RulesFor {
  const global: BreakerRules = {
    windowS: config.breakerWindowS,
    bounceRate: config.breakerBounceRate,
    bounceMinVolume: config.breakerBounceMinVolume,
    complaintRate: config.breakerComplaintRate,
    complaintMinVolume: config.breakerComplaintMinVolume,
  };
  let raw: unknown;
  try {
    raw = JSON.parse(config.breakerAccountRules);
  } catch {
    throw new ConfigError(['BREAKER_ACCOUNT_RULES: must be a JSON object']);
  }
  const parsed = z.record(z.string(), accountRules).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `BREAKER_ACCOUNT_RULES: ${i.path.map(String).join('.') || '(top)'} ${i.message}`,
      ),
    );
  }
  const perAccount = new Map<string, BreakerRules>();
  for (const [id, r] of Object.entries(parsed.data)) {
    if (!ACCOUNT_ID_RULE.test(id)) {
      throw new ConfigError([`BREAKER_ACCOUNT_RULES: "${id}" ${ACCOUNT_ID_RULE_TEXT}`]);
    }
    perAccount.set(id, {
      windowS: r.window_s ?? global.windowS,
      bounceRate: r.bounce_rate ?? global.bounceRate,
      bounceMinVolume: r.bounce_min_volume ?? global.bounceMinVolume,
      complaintRate: r.complaint_rate ?? global.complaintRate,
      complaintMinVolume: r.complaint_min_volume ?? global.complaintMinVolume,
    });
  }
  return (accountId) => perAccount.get(accountId) ?? global;
}
