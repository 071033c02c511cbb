/**
 * BullMQ's OpenTelemetry spans (bullmq-otel): the `telemetry` option of the queues and workers,
 * given only when tracing is on (tracing.ts's rule over the `OTEL_*` variables). With it,
 * BullMQ traces adds and job runs (`process actions`, ...) and carries the trace context in the
 * job, so an API call's span is a child of its job's run.
 */
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { tracingEnabled } from './tracing.js';

let telemetry: Telemetry | undefined;

/** `{ telemetry }` to spread into a Queue's or Worker's options; empty when tracing is off. */
export function bullmqTelemetry(): { telemetry?: Telemetry } {
  if (!tracingEnabled()) return {};
  telemetry ??= new BullMQOtel();
  return { telemetry };
}
