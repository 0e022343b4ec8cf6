import { z } from 'zod';

/**
 * Fields every deployment has, whatever its provider. Each provider extends this with its own
 * fields in its folder (`providers/<name>/config.ts`); the config schema unites them by `provider`.
 */

export const timeoutsSchema = z
  .strictObject({
    /** TCP (and TLS) connect. */
    connect_ms: z.number().int().positive().default(5_000),
    /** Until the upstream's response headers arrive; for a non-streamed answer that is the whole generation. */
    first_byte_ms: z.number().int().positive().default(120_000),
    /** Longest silence between two body chunks (a stalled stream). */
    idle_ms: z.number().int().positive().default(60_000),
    /** The whole upstream call, from sending to the last byte. */
    total_ms: z.number().int().positive().default(600_000),
  })
  .prefault({});

export type Timeouts = z.infer<typeof timeoutsSchema>;

export const deploymentBaseShape = {
  /** Shown in `x-stellwerk-deployment`, logs and metrics; defaults to `<alias>/<index>`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:/@-]{1,128}$/, 'use letters, digits and . _ : / @ - (at most 128)')
    .optional(),
  timeouts: timeoutsSchema,
};
