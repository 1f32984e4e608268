// A module argument counted in seconds (timeouts, intervals).
import * as z from 'zod';

/** Seconds: a number, or a numeric string (what a template may render). */
export const seconds = (max: number) =>
  z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\s*\d+(\.\d+)?\s*$/, 'must be a number of seconds')
        .transform(Number),
    ])
    .pipe(z.number().nonnegative().max(max));
