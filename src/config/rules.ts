/**
 * The parts every setting is made of (src/config/*.ts): {@link setting} (variable, rule and
 * default, meaning) and the zod rules of a variable's text: integers in a range, URLs of given
 * schemes, fractions, Redis Cluster seed nodes.
 */
import { z } from 'zod';

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: 'must be an integer' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

export const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      {
        error: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`,
      },
    );

/** A number from 0 to 1 (a rate). */
export const fraction = () =>
  z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: 'must be a number from 0 to 1' })
    .transform(Number);

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** `host:port[,host:port...]`: a hostname, IPv4 or [IPv6] address and a port 1..65535. */
export const clusterNodes = () =>
  z
    .string()
    .trim()
    .transform((v, ctx): ClusterNode[] => {
      const nodes: ClusterNode[] = [];
      for (const raw of v.split(',')) {
        const entry = raw.trim();
        const m =
          /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?):(\d{1,5})$/.exec(
            entry,
          );
        const port = m ? Number(m[2]) : 0;
        if (!m || port < 1 || port > 65535) {
          ctx.addIssue({
            code: 'custom',
            message: `must be comma-separated host:port seed nodes (e.g. 10.0.0.1:7000,10.0.0.2:7000) with a port 1..65535; ${JSON.stringify(entry.slice(0, 80))} is not`,
          });
          return z.NEVER;
        }
        nodes.push({ host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port });
      }
      return nodes;
    });

export interface Setting<S extends z.ZodType> {
  /** The environment variable. */
  env: string;
  /** Rule and default. */
  schema: S;
  /** What it means (the README's configuration table says the same). */
  doc: string;
}
export const setting = <S extends z.ZodType>(env: string, schema: S, doc: string): Setting<S> => ({
  env,
  schema,
  doc,
});
