/**
 * Failure webhooks' format: which events are sent, their CloudEvent, the signed headers, and
 * the delivery rules that need no network (status classes, backoff, job ids).
 */
import { describe, expect, it } from 'vitest';
import type {
  ActionFailedEvent,
  BreakerTrippedEvent,
  StreamEvent,
  WindowEndedEvent,
  WindowSkippedEvent,
  WindowStartedEvent,
} from '../../src/model.js';
import {
  CLOUDEVENT_CONTENT_TYPE,
  cloudEventBody,
  cloudEventSource,
  cloudEventType,
  eventTypeOf,
  isNotifyEvent,
  NOTIFY_EVENT_TYPES,
  notifyHeaders,
  toCloudEvent,
  type NotifyEvent,
} from '../../src/notify/cloudevent.js';
import {
  classifyStatus,
  notifyBackoff,
  notifyJobId,
  safeNotifyUrl,
} from '../../src/notify/delivery.js';
import { verifyWebhookSignature } from '../../src/sendmux/webhook-signature.js';
import { eventSchema } from '../../src/wire/index.js';

const AT = '2026-11-28T10:20:30.123Z';
const failed: ActionFailedEvent = {
  id: '1764325230123-0',
  type: 'action.failed',
  actor: 'alice',
  account_id: 'dprov_abc',
  action: 'deactivate',
  idempotency_key: 'k-1',
  job_id: 'k-k-1@1',
  source: 'manual',
  source_ref: null,
  reason: 'bounce spike',
  http_status: 404,
  error_code: 'not_found',
  error_message: 'Sending account not found',
  request_id: 'req_1',
  account_status: null,
  superseded_by: null,
  attempts: 1,
  at: AT,
};
const tripped: BreakerTrippedEvent = {
  id: '1764325230124-0',
  type: 'breaker.tripped',
  actor: 'alice',
  account_id: 'dprov_abc',
  trip_id: 'trip_1',
  reason: 'bounce_rate',
  numbers: {
    window_s: 900,
    delivered: 100,
    bounced: 20,
    hard_bounced: 15,
    complained: 0,
    rejected: 0,
    bounce_rate: 0.125,
    complaint_rate: 0,
  },
  idempotency_key: 'breaker:dprov_abc:trip_1',
  at: AT,
};
const started: WindowStartedEvent = {
  id: '1764325230125-0',
  type: 'window.started',
  actor: 'alice',
  window_id: 'win_1',
  occurrence: '20261128T102000Z',
  starts_at: '2026-11-28T10:20:00.000Z',
  ends_at: '2026-11-28T11:20:00.000Z',
  late_ms: 30,
  switched_off: ['dprov_a', 'dprov_b'],
  already_off: ['dprov_c'],
  missing: [],
  not_switched_off: [],
  at: AT,
};
const ended: WindowEndedEvent = {
  id: '1764325230126-0',
  type: 'window.ended',
  actor: 'alice',
  window_id: 'win_1',
  occurrence: '20261128T102000Z',
  starts_at: '2026-11-28T10:20:00.000Z',
  ends_at: '2026-11-28T11:20:00.000Z',
  reactivated: ['dprov_a'],
  still_held: [{ account_id: 'dprov_b', held_by: ['manual'] }],
  stayed_off: ['dprov_c'],
  base_unknown: [],
  gone: [],
  cancelled: false,
  at: AT,
};
const skipped: WindowSkippedEvent = {
  id: '1764325230127-0',
  type: 'window.skipped',
  actor: 'alice',
  window_id: 'win_2',
  occurrence: '20261128T102000Z',
  starts_at: '2026-11-28T10:20:00.000Z',
  ends_at: '2026-11-28T11:20:00.000Z',
  reason: 'ended_before_start',
  at: AT,
};

describe('which events are notified', () => {
  it('action.failed, breaker.tripped, the warnings (unless watching) and the window events; nothing else', () => {
    expect([...NOTIFY_EVENT_TYPES]).toEqual([
      'action.failed',
      'breaker.tripped',
      'breaker.warned',
      'breaker.would_trip',
      'window.started',
      'window.ended',
      'window.skipped',
      'window.failed',
    ]);
    const windowFailed: StreamEvent = {
      type: 'window.failed',
      actor: 'alice',
      window_id: 'w-1',
      occurrence: '20261201T020000Z',
      step: 'start',
      account_ids: ['dprov_abc'],
      why: 'the occurrence was over before its accounts could be read and switched off',
      at: '2026-12-01T03:00:00.000Z',
    };
    for (const e of [failed, tripped, started, ended, skipped, windowFailed]) {
      expect(isNotifyEvent(e)).toBe(true);
    }
    const others: StreamEvent[] = [
      { ...failed, type: 'action.succeeded', error_code: null, error_message: null } as StreamEvent,
      {
        type: 'breaker.reset',
        actor: 'alice',
        account_id: 'dprov_abc',
        trip_id: 'trip_1',
        idempotency_key: null,
        still_held_by: [],
        base: 'unknown',
        at: AT,
      },
    ];
    for (const e of others) expect(isNotifyEvent(e)).toBe(false);
    const warned: StreamEvent = {
      type: 'breaker.warned',
      account_id: 'dprov_abc',
      reason: 'bounce_rate',
      numbers: tripped.numbers,
      mode: 'act',
      at: AT,
    };
    const wouldTrip: StreamEvent = { ...warned, type: 'breaker.would_trip', mode: 'warn' };
    expect(isNotifyEvent(warned)).toBe(true);
    expect(isNotifyEvent(wouldTrip)).toBe(true);
    // Watching is silent: on the stream, never notified.
    expect(isNotifyEvent({ ...warned, mode: 'watch' })).toBe(false);
    expect(isNotifyEvent({ ...wouldTrip, mode: 'watch' })).toBe(false);
    expect(isNotifyEvent({ ...warned, mode: 'warn' })).toBe(true);
  });
});

describe('toCloudEvent', () => {
  it('makes a CloudEvents 1.0 event of an action.failed: stream id, source, type, time, subject, data as users see it', () => {
    const ce = toCloudEvent(failed, '{sdx}');
    const { account_id, ...rest } = failed;
    const stored: Partial<typeof rest> & { account_id: string } = {
      ...rest,
      account_id: account_id,
    };
    delete stored.id;
    expect(ce).toEqual({
      specversion: '1.0',
      id: '1764325230123-0',
      source: 'urn:sendmux-deactivator:%7Bsdx%7D',
      type: 'ai.sendmux.deactivator.action.failed',
      time: AT,
      subject: 'dprov_abc',
      datacontenttype: 'application/json',
      data: stored,
    });
    expect('id' in ce.data).toBe(false);
    expect(eventSchema.parse(ce.data)).toEqual(stored);
    // `source` is a URI (a URN); `time` RFC 3339.
    expect(new URL(ce.source).protocol).toBe('urn:');
    expect(ce.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('uses the account as subject of a breaker trip, the window id for window events', () => {
    expect(toCloudEvent(tripped, 'p')).toMatchObject({
      subject: 'dprov_abc',
      type: 'ai.sendmux.deactivator.breaker.tripped',
      data: { numbers: { bounce_rate: 0.125 }, trip_id: 'trip_1' },
    });
    const s = toCloudEvent(started, 'p');
    expect(s).toMatchObject({ subject: 'win_1', type: 'ai.sendmux.deactivator.window.started' });
    expect(s.data).toMatchObject({
      switched_off: ['dprov_a', 'dprov_b'],
      already_off: ['dprov_c'],
    });
    expect(toCloudEvent(ended, 'p')).toMatchObject({
      subject: 'win_1',
      data: { still_held: [{ account_id: 'dprov_b', held_by: ['manual'] }] },
    });
    expect(toCloudEvent(skipped, 'p')).toMatchObject({
      subject: 'win_2',
      type: 'ai.sendmux.deactivator.window.skipped',
    });
  });

  it("takes the time from the stream id when the event's own is unreadable", () => {
    expect(toCloudEvent({ ...failed, at: 'garbage' }, 'p').time).toBe(
      new Date(1764325230123).toISOString(),
    );
  });

  it('refuses an event without its stream id (the CloudEvent id would not be stable)', () => {
    const noId: NotifyEvent = { ...failed };
    delete noId.id;
    expect(() => toCloudEvent(noId, 'p')).toThrow(/stream id/);
  });

  it('gives the same bytes for the same event (a retry sends the same body)', () => {
    expect(cloudEventBody(toCloudEvent(started, 'p'))).toBe(
      cloudEventBody(toCloudEvent({ ...started }, 'p')),
    );
  });

  it('maps types both ways, and sources per prefix', () => {
    expect(cloudEventType('window.ended')).toBe('ai.sendmux.deactivator.window.ended');
    expect(eventTypeOf('ai.sendmux.deactivator.window.ended')).toBe('window.ended');
    expect(eventTypeOf('ai.sendmux.deactivator.nope')).toBeUndefined();
    expect(eventTypeOf('window.ended')).toBeUndefined();
    expect(cloudEventSource('{a:b}')).toBe('urn:sendmux-deactivator:%7Ba%3Ab%7D');
  });
});

describe('notifyHeaders', () => {
  const secret = 'notify-secret-0123456789';
  const body = cloudEventBody(toCloudEvent(failed, '{sdx}'));

  it('signs the raw body the way Sendmux signs its webhooks', () => {
    const h = notifyHeaders(secret, failed.id ?? '', body);
    expect(h['content-type']).toBe(CLOUDEVENT_CONTENT_TYPE);
    expect(h['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(h['webhook-id']).toBe('1764325230123-0');
    expect(h['x-sendmux-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const raw = Buffer.from(body, 'utf8');
    expect(verifyWebhookSignature(secret, raw, h['x-sendmux-signature'])).toBe(true);
    expect(verifyWebhookSignature(`${secret}x`, raw, h['x-sendmux-signature'])).toBe(false);
    expect(verifyWebhookSignature(secret, Buffer.from(`${body} `), h['x-sendmux-signature'])).toBe(
      false,
    );
    expect(JSON.stringify(h)).not.toContain(secret);
  });

  it('signs non-ASCII bodies over their UTF-8 bytes', () => {
    const b = cloudEventBody(toCloudEvent({ ...failed, reason: 'Störung ✉' }, 'p'));
    const h = notifyHeaders(secret, 'x', b);
    expect(verifyWebhookSignature(secret, Buffer.from(b, 'utf8'), h['x-sendmux-signature'])).toBe(
      true,
    );
  });
});

describe('delivery rules', () => {
  it('2xx delivered; 408, 429 and 5xx tried again; any other answer is final', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classifyStatus(s)).toBe('delivered');
    for (const s of [408, 429, 500, 502, 503, 504, 599]) expect(classifyStatus(s)).toBe('retry');
    for (const s of [301, 302, 400, 401, 403, 404, 410, 413, 422]) {
      expect(classifyStatus(s)).toBe('permanent');
    }
  });

  it('backs off exponentially from the base up to the cap, honouring Retry-After within it', () => {
    const d = (n: number, ra?: number) => notifyBackoff(n, 1_000, 600_000, ra);
    expect([1, 2, 3, 4, 10].map((n) => d(n))).toEqual([1_000, 2_000, 4_000, 8_000, 512_000]);
    expect(d(11)).toBe(600_000);
    expect(d(1_000)).toBe(600_000);
    expect(d(1, 30_000)).toBe(30_000);
    expect(d(5, 1_000)).toBe(16_000);
    expect(d(1, 86_400_000)).toBe(600_000);
  });

  it('derives job ids from stream ids (no ":" for BullMQ)', () => {
    expect(notifyJobId('1764325230123-0')).toBe('ev-1764325230123-0');
    expect(notifyJobId('1-2')).not.toContain(':');
  });

  it('logs NOTIFY_URL without its credentials or query', () => {
    expect(safeNotifyUrl('https://user:pw@hooks.example.com/in/x?token=abc')).toBe(
      'https://hooks.example.com/in/x',
    );
    expect(safeNotifyUrl('not a url')).toBe('(unparseable URL)');
  });
});
