/**
 * Settings of the breaker (put together in ../config.ts): its window and rules, cooldown and
 * half-open watch, the webhook sender map and accounts refresh, and how long a counted signal id
 * is remembered.
 */
import { z } from 'zod';
import { BREAKER_MODES } from '../model/breaker-events.js';
import { fraction, int, setting } from './rules.js';

export const BREAKER_SETTINGS = {
  breakerWindowS: setting(
    'BREAKER_WINDOW_S',
    int(60, 86_400).default(900),
    "The breaker's sliding window: its rules read the signals of this many seconds (whole minutes).",
  ),
  breakerMode: setting(
    'BREAKER_MODE',
    z.enum(BREAKER_MODES, { error: 'must be act, warn or watch' }).default('act'),
    'What a crossing of the trip level does: `act` trips (holds the account off and deactivates it), `warn` records `breaker.would_trip` and notifies, `watch` records `breaker.would_trip` only. Per account in BREAKER_ACCOUNT_RULES (`mode`); changed at run time by `breaker mode`.',
  ),
  breakerBounceRate: setting(
    'BREAKER_BOUNCE_RATE',
    fraction().default(0.1),
    'Trip when hard (Permanent) bounces / (delivered + bounced) over the window reaches this (0..1; SES pauses at 10 %)...',
  ),
  breakerBounceWarnRate: setting(
    'BREAKER_BOUNCE_WARN_RATE',
    fraction().optional(),
    'Warn (`breaker.warned`, a notification, the status page) when the bounce rate reaches this, with the same minimum volume; must be <= BREAKER_BOUNCE_RATE. Unset: 0.05 (SES reviews at 5 %), or the trip level if that is lower (no separate warning).',
  ),
  breakerBounceMinVolume: setting(
    'BREAKER_BOUNCE_MIN_VOLUME',
    int(1, 100_000_000).default(100),
    '...with at least this many delivered + bounced in the window.',
  ),
  breakerComplaintRate: setting(
    'BREAKER_COMPLAINT_RATE',
    fraction().default(0.005),
    'Trip when complaints / delivered over the window reaches this (0..1; SES pauses at 0.5 %)...',
  ),
  breakerComplaintWarnRate: setting(
    'BREAKER_COMPLAINT_WARN_RATE',
    fraction().optional(),
    'Warn when the complaint rate reaches this, with the same minimum volume; must be <= BREAKER_COMPLAINT_RATE. Unset: 0.001 (SES reviews at 0.1 %), or the trip level if that is lower.',
  ),
  breakerComplaintMinVolume: setting(
    'BREAKER_COMPLAINT_MIN_VOLUME',
    int(1, 100_000_000).default(1_000),
    '...with at least this many delivered in the window.',
  ),
  breakerAccountRules: setting(
    'BREAKER_ACCOUNT_RULES',
    z.string().trim().default('{}'),
    'Per-account rules as JSON: {"dprov_...": {"mode": "watch", "bounce_rate": 0.1, "bounce_warn_rate": 0.05, "bounce_min_volume": 50, "complaint_rate": ..., "complaint_warn_rate": ..., "complaint_min_volume": ..., "window_s": ...}}; unset fields take the global ones.',
  ),
  breakerCooldownS: setting(
    'BREAKER_COOLDOWN_S',
    int(0, 30 * 86_400).default(0),
    'After a trip, go half-open by itself after this long (the account asked back on, then watched); 0 = stay open until `breaker reset`.',
  ),
  breakerCooldownMaxS: setting(
    'BREAKER_COOLDOWN_MAX_S',
    int(1, 30 * 86_400).default(86_400),
    'A trip while half-open doubles the cooldown, up to this.',
  ),
  breakerHalfOpenWatchS: setting(
    'BREAKER_HALF_OPEN_WATCH_S',
    int(1, 30 * 86_400).default(900),
    'A half-open breaker closes after this long without a trip (the next trip starts from BREAKER_COOLDOWN_S again).',
  ),
  breakerSenderMap: setting(
    'BREAKER_SENDER_MAP',
    z.string().trim().default('{}'),
    'Which account sent a webhook\'s message, first in the chain: JSON {"news@example.com": "dprov_...", "example.org": "dprov_..."} (an address, or a domain for all its addresses).',
  ),
  breakerAccountsRefreshS: setting(
    'BREAKER_ACCOUNTS_REFRESH_S',
    int(10, 86_400).default(300),
    "How often the server reads the accounts' from_email again (the second link of the chain; one listing through the rate budget).",
  ),
  signalDedupeTtlS: setting(
    'SIGNAL_DEDUPE_TTL_S',
    int(3_600, 30 * 86_400).default(172_800),
    'How long a counted signal id (webhook event id) is remembered: a retried delivery within it is counted once.',
  ),
} as const;
