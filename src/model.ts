/**
 * The types of the project's words: actions, sources, intents, intent states, events, holds.
 * What each word means is defined once, in the glossary of docs/architecture.md.
 *
 * They are written in model/: intent.ts (actions, sources, the intent and its validation,
 * fingerprints), states.ts (base and intent states, holds, an account's state), events.ts (the
 * event types, `action.*` events, the stream's union), breaker-events.ts and window-events.ts.
 * This file re-exports them all: import from here.
 */
export * from './model/breaker-events.js';
export * from './model/events.js';
export * from './model/intent.js';
export * from './model/states.js';
export * from './model/window-events.js';
export * from './model/actor.js';
