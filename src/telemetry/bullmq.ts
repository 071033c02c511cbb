/**
 * BullMQ's OpenTelemetry spans (bullmq-otel): the `telemetry` option of the queues and workers,
 * given only when tracing is on (tracing.ts's rule over the `OTEL_*` variables). With it,
 * BullMQ traces adds and job runs (`process actions`, ...) and carries the trace context in the
 * job, so an API call's span is a child of its job's run. bullmq-otel (and the OpenTelemetry
 * API under it) is loaded only then: a process without tracing never loads it.
 */
import { createRequire } from 'node:module';
import type { Telemetry } from 'bullmq';
import type { BullMQOtel } from 'bullmq-otel';
import { tracingEnabled } from './tracing.js';

let telemetry: Telemetry | undefined;

/** `{ telemetry }` to spread into a Queue's or Worker's options; empty when tracing is off. */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  if (!tracingEnabled()) return {};
  if (!telemetry) {
    // Synchronous, as the options are built: bullmq-otel ships CommonJS next to its ES modules.
    const otel = createRequire(import.meta.url)('bullmq-otel') as {
      BullMQOtel: new () => BullMQOtel;
    };
    telemetry = new otel.BullMQOtel();
  }
  return { telemetry };
}
