/**
 * Actors: who asked for something. Every intent, hold, batch record and button press records
 * one, and the events, `holds`, the status page and batch records show it:
 * - the CLI: `--actor <name>` if given, else the user running it (`$USER`, else the OS user);
 * - HTTP: the name of the admin token that signed the request (`ADMIN_TOKENS=name:token,...`;
 *   a lone `ADMIN_TOKEN` is named `admin`);
 * - automatic ones: `breaker` (a trip), `window:<id>` (a maintenance window).
 * Data written before actors existed has none: readers show it as null.
 */
import { userInfo } from 'node:os';
import { z } from 'zod';

/** 1..100 visible characters, no spaces: a name, not a sentence. */
export const ACTOR_RULE = /^[\x21-\x7e]{1,100}$/;
export const ACTOR_RULE_TEXT = 'must be 1..100 visible ASCII characters (no spaces)';
export const actorSchema = z.string().regex(ACTOR_RULE, { error: ACTOR_RULE_TEXT });

/** The breaker's trips. */
export const BREAKER_ACTOR = 'breaker';
/** The name of the single `ADMIN_TOKEN`. */
export const DEFAULT_TOKEN_NAME = 'admin';

/** A window's own switching. */
export function windowActor(windowId: string): string {
  return `window:${windowId}`;
}

/** Who runs this CLI: `$USER`, else the OS user, else `cli`. */
export function cliUser(): string {
  const fromEnv = process.env.USER ?? process.env.LOGNAME;
  let name = fromEnv && fromEnv.trim() !== '' ? fromEnv.trim() : '';
  if (name === '') {
    try {
      name = userInfo().username;
    } catch {
      name = '';
    }
  }
  name = name.replace(/[^\x21-\x7e]/g, '_').slice(0, 100);
  return name === '' ? 'cli' : name;
}
