/**
 * `POST /webhooks/sendmux`: the Sendmux webhook receiver. Authenticated by its signature, not
 * by the admin token. Store first, answer fast, process later (a consumer of the inbox):
 *
 *   secret unset -> 503 | too large -> 413 | bad signature -> 401 (nothing read or stored)
 *   | not JSON -> 400 | another type -> 200 ignored | bad id or occurred_at -> 400
 *   | older than the dedupe window -> 200 expired | seen id -> 200 duplicate
 *   | else one atomic step (dedupe mark + inbox entry) -> 202
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { countWebhook } from '../metrics/metrics.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../sendmux/webhook-signature.js';
import type { Keys } from '../store/keys.js';
import { appendToInbox } from '../store/webhook-inbox.js';
import { PUBLIC_ROUTE } from './auth.js';
import { sendError } from './errors.js';
import { EVENT_ID_HEADER, readEnvelope } from './webhook-envelope.js';

export const SENDMUX_WEBHOOK_PATH = '/webhooks/sendmux';

/** What the receiver answers with a 2xx. */
export type WebhookAnswer =
  | { accepted: true }
  | { accepted: false; duplicate: true }
  | { accepted: false; ignored: true }
  | { accepted: false; expired: true };

const EMPTY = Buffer.alloc(0);

export interface WebhookDeps {
  config: Pick<
    Config,
    'webhookSecret' | 'webhookBodyLimitBytes' | 'webhookDedupeTtlS' | 'webhookInboxMaxLen'
  >;
  redis: Redis;
  keys: Keys;
}

/** The receiver, as a plugin: register it on its own (it replaces the body parsers there). */
export function webhookRoutes(deps: WebhookDeps) {
  const { config, redis, keys } = deps;
  const secret = config.webhookSecret;
  const maxAgeMs = config.webhookDedupeTtlS * 1000;
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
            503,
            'webhook_secret_unset',
            'SENDMUX_WEBHOOK_SECRET: is not set, so webhooks cannot be verified',
          );
        }
        const raw = Buffer.isBuffer(req.body) ? req.body : EMPTY;
        if (!verifyWebhookSignature(secret, raw, req.headers[SIGNATURE_HEADER])) {
          countWebhook('invalid_signature');
          req.log.warn(
            { event_id: headerText(req.headers[EVENT_ID_HEADER]) },
            'webhook refused: X-Sendmux-Signature missing or wrong (is SENDMUX_WEBHOOK_SECRET the subscription secret?)',
          );
          return sendError(
            reply,
            401,
            'invalid_signature',
            'X-Sendmux-Signature: must be "sha256=" + the hex HMAC-SHA256 of the body with the webhook secret',
          );
        }
        const envelope = readEnvelope(raw, req.headers[EVENT_ID_HEADER], Date.now(), maxAgeMs);
        let answer: WebhookAnswer;
        switch (envelope.kind) {
          case 'invalid':
            countWebhook(envelope.code);
            return sendError(reply, 400, envelope.code, envelope.message);
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
        const entry = await appendToInbox(
          redis,
          keys,
          { id: envelope.id, type: envelope.type, body: raw },
          { dedupeTtlS: config.webhookDedupeTtlS, maxLen: config.webhookInboxMaxLen },
        );
        if (entry === undefined) {
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

/** A header as one short string for a log line. */
function headerText(value: string | readonly string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  return typeof text === 'string' ? text.slice(0, 255) : undefined;
}
