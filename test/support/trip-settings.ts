/** Breaker settings of the guard tests: the bounce rule trips on 2 signals at 50 % over 15 minutes; complaints out of reach. */
import type { TripSettings } from '../../src/store/breaker-trip.js';

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
