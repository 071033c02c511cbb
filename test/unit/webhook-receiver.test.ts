/** The webhook receiver's pure parts: the signature, the envelope, the bearer token. */
import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../src/http/auth.js';
import { readEnvelope } from '../../src/http/webhook-envelope.js';
import { verifyWebhookSignature, webhookSignature } from '../../src/sendmux/webhook-signature.js';

describe('webhookSignature', () => {
  it('is sha256= and the lowercase hex HMAC-SHA256 of the body (RFC 4231-style known vector)', () => {
    // HMAC-SHA256(key = "key", "The quick brown fox jumps over the lazy dog")
    expect(webhookSignature('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});

describe('verifyWebhookSignature', () => {
  const body = Buffer.from('{"id":"evt_1","type":"message.bounced"}');
  const good = webhookSignature('s3cret', body);

  it('accepts the signature of these bytes with this secret', () => {
    expect(verifyWebhookSignature('s3cret', body, good)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['another secret', webhookSignature('other', body)],
    ['another scheme', good.replace('sha256=', 'sha1=')],
    ['no scheme', good.slice('sha256='.length)],
    ['upper-case hex', 'sha256=' + good.slice('sha256='.length).toUpperCase()],
    ['too short', good.slice(0, -1)],
    ['too long', good + '0'],
    ['sent twice', [good, good]],
    ['multi-byte characters of the same length', 'sha256=' + 'é'.repeat(64)],
    [
      // U+0166 for "f", ...: characters whose low byte is the right hex digit
      'the right digits as characters beyond latin1',
      'sha256=' + good.slice(7).replace(/./g, (c) => String.fromCharCode(0x100 + c.charCodeAt(0))),
    ],
  ])('refuses a header that is %s', (_what, header) => {
    expect(verifyWebhookSignature('s3cret', body, header)).toBe(false);
  });

  it('refuses a body changed by one byte', () => {
    const changed = Buffer.from(body);
    const at = changed.length - 2;
    changed.writeUInt8(changed.readUInt8(at) ^ 1, at);
    expect(verifyWebhookSignature('s3cret', changed, good)).toBe(false);
  });
});

describe('readEnvelope', () => {
  const now = Date.parse('2026-05-21T12:00:00Z');
  const day = 86_400_000;
  const event = (fields: Record<string, unknown>) =>
    Buffer.from(
      JSON.stringify({
        id: 'evt_1',
        type: 'message.bounced',
        occurred_at: '2026-05-21T11:59:00Z',
        ...fields,
      }),
    );
  const read = (raw: Buffer, header?: string | string[]) => readEnvelope(raw, header, now, 2 * day);

  it('reads a counted type, its id (header first) and accepts an agreeing body id', () => {
    expect(read(event({}), 'evt_1')).toEqual({
      kind: 'counted',
      id: 'evt_1',
      type: 'message.bounced',
    });
    expect(read(event({}))).toEqual({ kind: 'counted', id: 'evt_1', type: 'message.bounced' });
  });

  it('refuses a body without an id even with the (unsigned) header id: it could be replayed under any', () => {
    expect(read(event({ id: undefined }), 'evt_h')).toMatchObject({
      kind: 'invalid',
      code: 'invalid_event',
      message: expect.stringContaining('id: is required in the (signed) body') as unknown,
    });
    expect(read(event({ id: '' }), 'evt_h')).toMatchObject({ kind: 'invalid' });
  });

  it.each(['message.delivered', 'message.bounced', 'message.complained', 'message.rejected'])(
    'counts %s',
    (type) => {
      expect(read(event({ type })).kind).toBe('counted');
    },
  );

  it.each(['sendmux.test', 'message.delivery_delayed', 'message.received'])(
    'ignores %s, even without an id',
    (type) => {
      expect(read(event({ type, id: undefined }))).toEqual({ kind: 'ignored', type });
    },
  );

  it.each([
    ['not JSON', Buffer.from('{"id":'), 'invalid_json', 'body: is not JSON'],
    ['an array', Buffer.from('[1]'), 'invalid_event', 'body: must be a JSON object'],
    ['no type', event({ type: undefined }), 'invalid_event', 'type: must be a non-empty string'],
    ['no id', event({ id: undefined }), 'invalid_event', 'id: is required'],
    ['a bad id', event({ id: 'evt 1' }), 'invalid_event', 'must be 1..255 visible ASCII'],
    ['a numeric id', event({ id: 7 }), 'invalid_event', 'id: must be a string'],
    ['no occurred_at', event({ occurred_at: undefined }), 'invalid_event', 'occurred_at: must'],
    ['a bad occurred_at', event({ occurred_at: 'yesterday' }), 'invalid_event', 'occurred_at'],
  ])('refuses %s, naming the field', (_what, raw, code, message) => {
    const e = read(raw);
    expect(e).toMatchObject({ kind: 'invalid', code });
    expect(e.kind === 'invalid' ? e.message : '').toContain(message);
  });

  it('refuses a header id that is not the (signed) body id: a replay under a new id', () => {
    expect(read(event({}), 'evt_2')).toMatchObject({
      kind: 'invalid',
      message: "x-sendmux-event-id: must equal the body's id",
    });
    expect(read(event({}), ['evt_1', 'evt_1'])).toMatchObject({ kind: 'invalid' });
  });

  it('says expired past the dedupe window, not at it', () => {
    const at = (ms: number) => event({ occurred_at: new Date(now - ms).toISOString() });
    expect(read(at(2 * day)).kind).toBe('counted');
    expect(read(at(2 * day + 1))).toEqual({
      kind: 'expired',
      id: 'evt_1',
      type: 'message.bounced',
    });
    // A clock ahead of ours is not a replay...
    expect(read(at(-60_000)).kind).toBe('counted');
  });

  it('refuses an occurred_at further in the future than the clock skew allowed', () => {
    const at = (ms: number) => event({ occurred_at: new Date(now + ms).toISOString() });
    // ...within the default 5 minutes.
    expect(read(at(300_000)).kind).toBe('counted');
    const ahead = read(at(300_001));
    expect(ahead).toMatchObject({ kind: 'invalid', code: 'invalid_event' });
    expect(ahead.kind === 'invalid' ? ahead.message : '').toMatch(
      /^occurred_at: must not be in the future \(more than 300 s ahead.*WEBHOOK_CLOCK_SKEW_S/,
    );
    expect(read(at(365 * day)).kind).toBe('invalid');
    // The skew is a setting.
    expect(readEnvelope(at(60_000), undefined, now, 2 * day, 30_000).kind).toBe('invalid');
    expect(readEnvelope(at(20_000), undefined, now, 2 * day, 30_000).kind).toBe('counted');
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer  abc ', 'abc'],
    ['Bearer', undefined],
    ['Bearer ', undefined],
    ['Basic abc', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('%j -> %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});
