/**
 * Named admin tokens: `ADMIN_TOKENS=name:token[:kind],...` (kind `admin`, the default, or
 * `read`, a viewer's token that may only read), next to the single `ADMIN_TOKEN` (named `admin`).
 * The name is the actor of what a request with the token does (model/actor.ts). A bad item is
 * named by its position and name, never by its token.
 */
import { z } from 'zod';
import { ACTOR_RULE, ACTOR_RULE_TEXT, DEFAULT_TOKEN_NAME } from '../model/actor.js';

export const TOKEN_KINDS = ['admin', 'read'] as const;
/** `admin`: every route; `read`: GET and HEAD only. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** One admin token with its name. */
export interface AdminToken {
  name: string;
  token: string;
  kind: TokenKind;
}

/** The rule of a token, ADMIN_TOKEN's and each of ADMIN_TOKENS'. */
export const TOKEN_MIN_LENGTH = 16;
export const TOKEN_RULE_TEXT = `must be at least ${TOKEN_MIN_LENGTH} characters`;

/** The problems of one item, each naming it (`item 2 ("viewer")`), never its token. */
function itemProblems(raw: string, index: number, out: AdminToken[]): string[] {
  const parts = raw.trim().split(':');
  const [name = '', token = '', kind = 'admin'] = parts;
  const where = `item ${index + 1}${ACTOR_RULE.test(name) ? ` (${JSON.stringify(name)})` : ''}`;
  if (parts.length < 2 || parts.length > 3) {
    return [`${where}: must be name:token or name:token:kind (the token may hold no ':' or ',')`];
  }
  const problems: string[] = [];
  if (!ACTOR_RULE.test(name)) problems.push(`${where}: the name ${ACTOR_RULE_TEXT}`);
  if (token.length < TOKEN_MIN_LENGTH) problems.push(`${where}: the token ${TOKEN_RULE_TEXT}`);
  if (!(TOKEN_KINDS as readonly string[]).includes(kind)) {
    problems.push(`${where}: the kind must be "admin" or "read" (got ${JSON.stringify(kind)})`);
  }
  if (problems.length === 0) out.push({ name, token, kind: kind as TokenKind });
  return problems;
}

/** The duplicates among tokens (names or secrets), named by position and name. */
export function duplicateProblems(tokens: readonly AdminToken[], label: (i: number) => string) {
  const problems: string[] = [];
  tokens.forEach((t, i) => {
    const earlier = tokens.findIndex((o) => o.name === t.name);
    if (earlier < i)
      problems.push(`${label(i)}: the name "${t.name}" is taken by ${label(earlier)}`);
    const same = tokens.findIndex((o) => o.token === t.token);
    if (same < i) problems.push(`${label(i)}: its token is the token of ${label(same)}`);
  });
  return problems;
}

/** The zod rule of ADMIN_TOKENS: a list of named tokens. */
export const adminTokensRule = () =>
  z.string().transform((v, ctx): AdminToken[] => {
    const tokens: AdminToken[] = [];
    const problems = v.split(',').flatMap((raw, i) => itemProblems(raw, i, tokens));
    if (problems.length === 0) {
      const label = (i: number) => `item ${i + 1} ("${tokens[i]?.name ?? ''}")`;
      problems.push(...duplicateProblems(tokens, label));
    }
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return problems.length > 0 ? z.NEVER : tokens;
  });

/**
 * Every admin token the server takes: ADMIN_TOKEN as `admin` (kind admin), then ADMIN_TOKENS.
 * The loader (config.ts) checks that the two share no name and no token.
 */
export function adminTokensOf(config: {
  adminToken?: string | undefined;
  adminTokens?: readonly AdminToken[] | undefined;
}): AdminToken[] {
  const single: AdminToken[] =
    config.adminToken === undefined
      ? []
      : [{ name: DEFAULT_TOKEN_NAME, token: config.adminToken, kind: 'admin' }];
  return [...single, ...(config.adminTokens ?? [])];
}

/** Conflicts between ADMIN_TOKEN and ADMIN_TOKENS (a name or a token used by both). */
export function adminTokenConflicts(config: {
  adminToken?: string | undefined;
  adminTokens?: readonly AdminToken[] | undefined;
}): string[] {
  if (config.adminToken === undefined || !config.adminTokens) return [];
  const all = adminTokensOf(config);
  const label = (i: number) =>
    i === 0 ? 'ADMIN_TOKEN (named "admin")' : `item ${i} ("${all[i]?.name ?? ''}")`;
  return duplicateProblems(all, label).map((p) => `ADMIN_TOKENS: ${p}`);
}
