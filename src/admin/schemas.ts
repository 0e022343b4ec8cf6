import { z } from 'zod';

/**
 * Bodies of the admin API, validated with field-named errors; the same schemas describe the API
 * in /admin/openapi.json.
 */

const limitFields = {
  // Limits are stored as 32-bit integers.
  rpm: z.number().int().positive().max(2_147_483_647).nullable().optional().describe('Requests per minute; null: no limit.'),
  tpm: z.number().int().positive().max(2_147_483_647).nullable().optional().describe('Tokens per minute (prompt + completion); null: no limit.'),
  max_parallel: z.number().int().positive().max(2_147_483_647).nullable().optional().describe('Requests in flight at once; null: no limit.'),
  budget: z.number().nonnegative().nullable().optional().describe('Budget in USD per budget_period; null: no budget.'),
  budget_period: z.enum(['day', 'week', 'month', 'total']).optional().describe('Calendar periods in UTC; weeks start on Monday.'),
};

const models = z.array(z.string().min(1)).nullable().optional().describe('Model aliases allowed; null or absent: all.');
const metadata = z.record(z.string(), z.unknown()).optional().describe('Free JSON, returned as given.');

export const createKeySchema = z.strictObject({
  name: z.string().min(1).max(200).nullable().optional(),
  team: z.string().min(1).nullable().optional().describe('Team id; admin keys can only create keys of their own team.'),
  role: z.enum(['user', 'admin']).optional().describe('admin keys may manage the keys of their team.'),
  models,
  ...limitFields,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional().describe('ISO 8601 time after which the key stops working.'),
  metadata,
  data_policy: z.record(z.string(), z.unknown()).nullable().optional().describe('Privacy policy of the key (PII, residency).'),
});

export const updateKeySchema = createKeySchema
  .omit({ team: true })
  .extend({ state: z.enum(['active', 'blocked']).optional().describe('blocked keys are refused until set active again.') });

export const createTeamSchema = z.strictObject({
  name: z.string().min(1).max(200),
  models,
  ...limitFields,
  metadata,
  data_policy: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .describe('Data policy of the team (privacy, residency, log_bodies; docs/privacy.md).'),
});

export const updateTeamSchema = createTeamSchema.partial().extend({ state: z.enum(['active', 'blocked']).optional() });

export const usageQuerySchema = z.strictObject({
  group_by: z.enum(['key', 'team', 'alias', 'deployment', 'day']).default('key'),
  format: z.enum(['json', 'csv']).default('json'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

export const statsQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('Start (inclusive); default: 24 hours before `to`.'),
  to: z.iso.datetime({ offset: true }).optional().describe('End (exclusive); default: now.'),
  bucket: z.enum(['minute', 'hour', 'day']).optional().describe('Default: minute up to 3 hours, hour up to 14 days, else day.'),
});

export type CreateKeyInput = z.infer<typeof createKeySchema>;
export type UpdateKeyInput = z.infer<typeof updateKeySchema>;
export type CreateTeamInput = z.infer<typeof createTeamSchema>;
export type UpdateTeamInput = z.infer<typeof updateTeamSchema>;
