/** The options of the command line that every command that judges takes. */

/** In `node:util` parseArgs form. */
export const CORE_OPTIONS = {
  policy: { type: 'string' },
  snapshot: { type: 'string' },
  table: { type: 'string' },
  now: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
