/**
 * Fault injection: per-account scripted steps (consumed first) and random faults.
 *
 * RNG use is predictable for tests: one draw per action request when any fault rate is
 * above 0 (compared against the cumulative rates 500, 503, drop, hang, lost, in that order),
 * then one draw for the jitter when latencyJitterMs is above 0 and no fault was picked.
 * Random faults other than `lost` do not execute; `lost` executes and drops the connection.
 * Reads (`GET /providers...`) draw only when `readError500Rate` is above 0 (one draw per read),
 * and fail when an account is marked unreadable.
 */
import { z } from 'zod';
import type { SimFaults, SimStep } from './types.js';

const rate = z.number().min(0).max(1);
const nonNegative = z.number().min(0).max(3_600_000);

export const simFaultsPatchSchema = z.strictObject({
  error500Rate: rate.optional(),
  error503Rate: rate.optional(),
  retryAfter503S: z.number().int().min(0).max(86_400).optional(),
  latencyMs: nonNegative.optional(),
  latencyJitterMs: nonNegative.optional(),
  dropRate: rate.optional(),
  hangRate: rate.optional(),
  lostRate: rate.optional(),
  readError500Rate: rate.optional(),
});

export const simStepSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('status'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(429)]),
    retryable: z.boolean().optional(),
    retryAfterS: z.number().int().min(0).max(86_400).optional(),
  }),
  z.strictObject({ kind: z.literal('drop') }),
  z.strictObject({ kind: z.literal('hang') }),
  z.strictObject({ kind: z.literal('delay'), ms: nonNegative }),
  z.strictObject({ kind: z.literal('lost'), mode: z.enum(['drop', 'hang']).optional() }),
  z.strictObject({ kind: z.literal('mutate'), set: z.record(z.string(), z.json()) }),
  z.strictObject({ kind: z.literal('conflict') }),
]);

export const simScriptSchema = z.strictObject({
  provider_id: z.string().min(1),
  steps: z.array(simStepSchema),
});

/** Body of POST /__sim/auth. */
export const simAuthSchema = z.strictObject({ revoked: z.boolean() });

export const DEFAULT_FAULTS: Readonly<SimFaults> = {
  error500Rate: 0,
  error503Rate: 0,
  retryAfter503S: 1,
  latencyMs: 0,
  latencyJitterMs: 0,
  dropRate: 0,
  hangRate: 0,
  lostRate: 0,
  readError500Rate: 0,
};

/** Validates a patch and drops keys whose value is undefined (so they keep their current value). */
function parsePatch(patch: unknown): Partial<SimFaults> {
  const parsed = simFaultsPatchSchema.parse(patch);
  const out: Partial<SimFaults> = {};
  for (const k of Object.keys(DEFAULT_FAULTS) as (keyof SimFaults)[]) {
    const v = parsed[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export class FaultController {
  private faults: SimFaults;
  private scripts = new Map<string, SimStep[]>();
  private unreadable = new Set<string>();

  constructor(
    private readonly random: () => number,
    initial: Partial<SimFaults> = {},
  ) {
    this.faults = { ...DEFAULT_FAULTS, ...parsePatch(initial) };
  }

  get current(): SimFaults {
    return { ...this.faults };
  }

  /** Merges a validated patch; throws a ZodError on bad input. */
  set(patch: Partial<SimFaults>): void {
    this.faults = { ...this.faults, ...parsePatch(patch) };
  }

  /** Appends steps to the account's queue; throws a ZodError on bad input. */
  script(providerId: string, steps: SimStep[]): void {
    const parsed = simScriptSchema.parse({ provider_id: providerId, steps });
    const queue = this.scripts.get(providerId);
    if (queue === undefined) this.scripts.set(providerId, parsed.steps);
    else queue.push(...parsed.steps);
  }

  clearScripts(): void {
    this.scripts.clear();
  }

  /** Marks an account unreadable (GET /providers/{id} answers 500) or readable again. */
  setReadable(providerId: string, readable: boolean): void {
    if (readable) this.unreadable.delete(providerId);
    else this.unreadable.add(providerId);
  }

  clearUnreadable(): void {
    this.unreadable.clear();
  }

  /**
   * Whether a read fails with a 500: always for an unreadable account (`providerId` given),
   * else with probability `readError500Rate` (one draw, only when that rate is above 0).
   */
  readFails(providerId?: string): boolean {
    if (providerId !== undefined && this.unreadable.has(providerId)) return true;
    const r = this.faults.readError500Rate;
    return r > 0 && this.random() < r;
  }

  /** The step for the next action request on this account, or undefined to execute normally. */
  next(providerId: string): SimStep | undefined {
    if (this.scripts.size > 0) {
      const queue = this.scripts.get(providerId);
      if (queue !== undefined) {
        const step = queue.shift();
        if (queue.length === 0) this.scripts.delete(providerId);
        if (step !== undefined) return step;
      }
    }
    const f = this.faults;
    if (f.error500Rate + f.error503Rate + f.dropRate + f.hangRate + f.lostRate > 0) {
      const r = this.random();
      const order: [number, SimStep][] = [
        [f.error500Rate, { kind: 'status', status: 500 }],
        [f.error503Rate, { kind: 'status', status: 503 }],
        [f.dropRate, { kind: 'drop' }],
        [f.hangRate, { kind: 'hang' }],
        [f.lostRate, { kind: 'lost', mode: 'drop' }],
      ];
      let edge = 0;
      for (const [rate, step] of order) {
        edge += rate;
        if (r < edge) return step;
      }
    }
    const ms = f.latencyMs + (f.latencyJitterMs > 0 ? this.random() * f.latencyJitterMs : 0);
    return ms > 0 ? { kind: 'delay', ms } : undefined;
  }
}
