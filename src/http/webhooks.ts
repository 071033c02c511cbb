/**
 * `POST /webhooks/sendmux`: the Sendmux webhook receiver. Authenticated by its signature, not
 * by the admin token. Store first, answer fast, process later (a consumer of the inbox):
 *
 *   secret unset -> 503 | too large -> 413 | bad signature -> 401 (nothing read or stored)
 *   | not JSON -> 400 | another type -> 200 ignored
 *   | body id missing or bad, occurred_at missing or ahead by > WEBHOOK_CLOCK_SKEW_S -> 400
 *   | older than the dedupe window -> 200 expired | seen id -> 200 duplicate
 *   | Redis not connected, or no answer within WEBHOOK_REDIS_TIMEOUT_MS
 *     -> 503 redis_unavailable + Retry-After (Sendmux retries)
 *   | inbox full of unprocessed events (WEBHOOK_INBOX_BACKLOG_MAX, _MAXLEN, _MAX_BYTES)
 *     -> 503 inbox_full + Retry-After (nothing stored; Sendmux retries)
 *   | else one atomic step (full check + dedupe mark + inbox entry) -> 202
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { countWebhook, within } from '../metrics/metrics.js';
import type { RedisClient as Redis } from '../redis/connect.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../sendmux/webhook-signature.js';
import type { Keys } from '../store/keys.js';
import { appendToInbox, type AppendResult } from '../store/webhook-inbox-append.js';
import type { WebhookAnswer } from '../wire/service.js';
import { PUBLIC_ROUTE } from './auth.js';
import { redisIsDown, sendError, sendUnavailable } from './errors.js';
import { throttledLog } from './log-throttle.js';
import { EVENT_ID_HEADER, readEnvelope } from './webhook-envelope.js';

export const SENDMUX_WEBHOOK_PATH = '/webhooks/sendmux';

/** The receiver's answers: wire/service.ts. */
export type { WebhookAnswer };

const EMPTY = Buffer.alloc(0);

export interface WebhookDeps {
  config: Pick<
    Config,
    | 'webhookSecret'
    | 'webhookBodyLimitBytes'
    | 'webhookDedupeTtlS'
    | 'webhookInboxMaxLen'
    | 'webhookInboxBacklogMax'
    | 'webhookInboxMaxBytes'
    | 'webhookClockSkewS'
    | 'webhookRedisTimeoutMs'
  >;
  redis: Redis;
  keys: Keys;
}

/** The receiver, as a plugin: register it on its own (it replaces the body parsers there). */
export function webhookRoutes(deps: WebhookDeps) {
  const { config, redis, keys } = deps;
  const secret = config.webhookSecret;
  const maxAgeMs = config.webhookDedupeTtlS * 1000;
  const refusals = refusalLog();
  const badSignatureLog = throttledLog();
  const unavailableLog = throttledLog();
  /** 503 `redis_unavailable` with Retry-After; one log line per LOG_THROTTLE_MS at most. */
  const redisUnavailable = (req: FastifyRequest, reply: FastifyReply, why: string) => {
    countWebhook('redis_unavailable');
    unavailableLog((suppressed) => {
      req.log.warn(
        { why, suppressed },
        'webhook answered 503 with Retry-After: Redis is unreachable or too slow (Sendmux retries)',
      );
    });
    return sendUnavailable(
      reply,
      'redis_unavailable',
      'Redis is unreachable or too slow: the webhook was not stored; retry later',
      REDIS_UNAVAILABLE_RETRY_AFTER_S,
    );
  };
  return (app: FastifyInstance, _opts: unknown, done: (err?: Error) => void): void => {
    // The signature covers the raw bytes: keep them, whatever the content type says.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, body);
    });
    // Refused before the handler runs (the body limit): counted here.
    app.addHook('onResponse', (_req, reply, done) => {
      if (reply.statusCode === 413) countWebhook('body_too_large');
      done();
    });

    app.post(
      SENDMUX_WEBHOOK_PATH,
      { bodyLimit: config.webhookBodyLimitBytes, config: PUBLIC_ROUTE },
      async (req: FastifyRequest, reply: FastifyReply) => {
        if (secret === undefined) {
          countWebhook('secret_unset');
          return sendError(
            reply,
            'invalid_config',
            'SENDMUX_WEBHOOK_SECRET: is not set, so webhooks cannot be verified',
          );
        }
        const raw = Buffer.isBuffer(req.body) ? req.body : EMPTY;
        if (!verifyWebhookSignature(secret, raw, req.headers[SIGNATURE_HEADER])) {
          // Anyone can send these: counted every time, logged once per LOG_THROTTLE_MS at most.
          countWebhook('invalid_signature');
          badSignatureLog((suppressed) => {
            req.log.warn(
              { event_id: headerText(req.headers[EVENT_ID_HEADER]), suppressed },
              'webhook refused: X-Sendmux-Signature missing or wrong (is SENDMUX_WEBHOOK_SECRET the subscription secret?); suppressed: how many more since the last line (webhooks_rejected_total counts all)',
            );
          });
          return sendError(
            reply,
            'invalid_signature',
            'X-Sendmux-Signature: must be "sha256=" + the hex HMAC-SHA256 of the body with the webhook secret',
          );
        }
        const envelope = readEnvelope(
          raw,
          req.headers[EVENT_ID_HEADER],
          Date.now(),
          maxAgeMs,
          config.webhookClockSkewS * 1000,
        );
        let answer: WebhookAnswer;
        switch (envelope.kind) {
          case 'invalid':
            // The metric keeps the finer reason; the answer's code is the table's.
            countWebhook(envelope.code);
            return sendError(reply, 'invalid_input', envelope.message);
          case 'ignored':
            countWebhook('ignored');
            answer = { accepted: false, ignored: true };
            return reply.code(200).send(answer);
          case 'expired':
            countWebhook('expired');
            req.log.warn(
              { event_id: envelope.id, type: envelope.type },
              'webhook refused: older than the dedupe window (a replay?)',
            );
            answer = { accepted: false, expired: true };
            return reply.code(200).send(answer);
          case 'counted':
            break;
        }
        // Redis not connected, or not answering in time: 503 with Retry-After at once (Sendmux
        // retries), not a 500 after ioredis's retries. A store that lands after the 503 marks
        // the id seen, so the retry is answered `duplicate`: stored once either way.
        if (redisIsDown(redis)) {
          return redisUnavailable(req, reply, `the connection is ${redis.status}`);
        }
        let entry: AppendResult;
        try {
          entry = await within(
            appendToInbox(
              redis,
              keys,
              { id: envelope.id, type: envelope.type, body: raw },
              {
                dedupeTtlS: config.webhookDedupeTtlS,
                maxLen: config.webhookInboxMaxLen,
                backlogMax: config.webhookInboxBacklogMax,
                maxBytes: config.webhookInboxMaxBytes,
              },
            ),
            config.webhookRedisTimeoutMs,
            'storing the webhook (WEBHOOK_REDIS_TIMEOUT_MS)',
          );
        } catch (err) {
          return redisUnavailable(req, reply, err instanceof Error ? err.message : String(err));
        }
        if (!entry.stored && !entry.duplicate) {
          // Full of events not yet processed: nothing stored, the id not marked seen, so
          // Sendmux's retry is stored once there is room. One log line per interval at most.
          countWebhook('inbox_full');
          refusals.note(req.log, entry);
          return sendUnavailable(
            reply,
            'inbox_full',
            `webhook inbox full (${INBOX_CAP_NAMES[entry.cap]}): ${entry.backlog} events not yet processed; retry later`,
            INBOX_FULL_RETRY_AFTER_S,
          );
        }
        if (!entry.stored) {
          countWebhook('duplicate');
          answer = { accepted: false, duplicate: true };
          return reply.code(200).send(answer);
        }
        countWebhook('accepted');
        answer = { accepted: true };
        return reply.code(202).send(answer);
      },
    );
    done();
  };
}

/** `Retry-After` of a 503 `redis_unavailable` (Sendmux's own schedule retries after 30 s first). */
export const REDIS_UNAVAILABLE_RETRY_AFTER_S = 30;

/**
 * `Retry-After` (s) of a 503 `inbox_full`: time for the breaker to catch up (it processed about
 * 1,000 events/s on the 2-core test machine). Sendmux may wait longer; it retries for 24 h.
 */
export const INBOX_FULL_RETRY_AFTER_S = 30;

/** Which setting a full inbox reached. */
const INBOX_CAP_NAMES: Readonly<Record<'backlog' | 'bytes' | 'entries', string>> = {
  backlog: 'WEBHOOK_INBOX_BACKLOG_MAX',
  bytes: 'WEBHOOK_INBOX_MAX_BYTES',
  entries: 'WEBHOOK_INBOX_MAXLEN',
};

/** One warning per 10 s at most while the inbox refuses, with how many it refused since. */
function refusalLog() {
  let last = 0;
  let since = 0;
  return {
    note(
      log: FastifyRequest['log'],
      full: Extract<AppendResult, { cap: unknown }>,
      now = Date.now(),
    ): void {
      since++;
      if (now - last < 10_000) return;
      log.warn(
        {
          refused: since,
          cap: INBOX_CAP_NAMES[full.cap],
          backlog: full.backlog,
          entries: full.entries,
          bytes: full.bytes,
        },
        'webhook inbox full: answering 503 with Retry-After (is the breaker service running and keeping up?)',
      );
      last = now;
      since = 0;
    },
  };
}

/** A header as one short string for a log line. */
function headerText(value: string | readonly string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  return typeof text === 'string' ? text.slice(0, 255) : undefined;
}
