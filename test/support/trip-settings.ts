/** Breaker settings of the guard tests: the bounce rule trips on 2 signals at 50 % over 15 minutes; complaints out of reach. */
import type { BreakerRules, TripSettings } from '../../src/store/breaker-trip.js';

/**
 * Rules of the tests that need realistic levels: 0.2's trip levels (5 % hard bounces of at
 * least 100, 0.1 % complaints of at least 1,000 delivered over 15 minutes), mode act, no
 * separate warning level.
 */
export const ACT_RULES: BreakerRules = {
  mode: 'act',
  ownMode: false,
  windowS: 900,
  bounceRate: 0.05,
  bounceWarnRate: 0.05,
  bounceMinVolume: 100,
  complaintRate: 0.001,
  complaintWarnRate: 0.001,
  complaintMinVolume: 1000,
};

export const TRIP_SETTINGS: TripSettings = {
  rules: {
    mode: 'act',
    ownMode: false,
    windowS: 900,
    bounceRate: 0.5,
    bounceWarnRate: 0.5,
    bounceMinVolume: 2,
    complaintRate: 0.5,
    complaintWarnRate: 0.5,
    complaintMinVolume: 1000,
  },
  dedupeTtlS: 3600,
  eventsMaxLen: 1000,
};
