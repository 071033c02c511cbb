/**
 * ADMIN_TOKENS at load: named tokens with a kind; a bad item, a duplicate name or token, and a
 * clash with ADMIN_TOKEN stop the load with a message naming the variable and the item (by
 * position and name) and the rule, and never the token.
 */
import { describe, expect, it } from 'vitest';
import { adminTokensOf } from '../../src/config/admin-tokens.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const T1 = 'tok-alice-0123456789';
const T2 = 'tok-viewer-0123456789';

function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loaded');
}

describe('ADMIN_TOKENS', () => {
  it('reads names, tokens and kinds (admin by default); ADMIN_TOKEN is named admin', () => {
    const config = loadConfig({
      ADMIN_TOKEN: 'the-single-token-0123',
      ADMIN_TOKENS: `alice:${T1}, viewer:${T2}:read,bob:tok-bob-01234567890:admin`,
    });
    expect(adminTokensOf(config)).toEqual([
      { name: 'admin', token: 'the-single-token-0123', kind: 'admin' },
      { name: 'alice', token: T1, kind: 'admin' },
      { name: 'viewer', token: T2, kind: 'read' },
      { name: 'bob', token: 'tok-bob-01234567890', kind: 'admin' },
    ]);
  });

  it.each([
    {
      what: 'a short token',
      value: `alice:${T1},viewer:short:read`,
      says: 'ADMIN_TOKENS: item 2 ("viewer"): the token must be at least 16 characters',
      secret: 'short',
    },
    {
      what: 'an unknown kind',
      value: `alice:${T1}:write`,
      says: 'ADMIN_TOKENS: item 1 ("alice"): the kind must be "admin" or "read" (got "write")',
      secret: T1,
    },
    {
      what: 'a missing token',
      value: `alice:${T1},viewer`,
      says: 'ADMIN_TOKENS: item 2 ("viewer"): must be name:token or name:token:kind',
      secret: T1,
    },
    {
      what: 'too many parts (a token with a colon)',
      value: `alice:${T1}:x:read`,
      says: 'ADMIN_TOKENS: item 1 ("alice"): must be name:token or name:token:kind',
      secret: T1,
    },
    {
      what: 'a name with a space',
      value: `al ice:${T1}`,
      says: 'ADMIN_TOKENS: item 1: the name must be 1..100 visible ASCII characters',
      secret: T1,
    },
    {
      what: 'a duplicate name',
      value: `alice:${T1},alice:${T2}`,
      says: 'ADMIN_TOKENS: item 2 ("alice"): the name "alice" is taken by item 1 ("alice")',
      secret: T2,
    },
    {
      what: 'a duplicate token',
      value: `alice:${T1},viewer:${T1}:read`,
      says: 'ADMIN_TOKENS: item 2 ("viewer"): its token is the token of item 1 ("alice")',
      secret: T1,
    },
  ])('$what: names the item and the rule, never the token', ({ value, says, secret }) => {
    const message = problem({ ADMIN_TOKENS: value });
    expect(message).toContain(says);
    expect(message).not.toContain(secret);
  });

  it('refuses the name admin, or the token of ADMIN_TOKEN, next to ADMIN_TOKEN', () => {
    const single = 'the-single-token-0123';
    const named = problem({ ADMIN_TOKEN: single, ADMIN_TOKENS: `admin:${T1}` });
    expect(named).toContain(
      'ADMIN_TOKENS: item 1 ("admin"): the name "admin" is taken by ADMIN_TOKEN (named "admin")',
    );
    const same = problem({ ADMIN_TOKEN: single, ADMIN_TOKENS: `alice:${single}` });
    expect(same).toContain('its token is the token of ADMIN_TOKEN');
    expect(same).not.toContain(single);
    expect(named).not.toContain(T1);
  });
});
