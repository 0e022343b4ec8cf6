import { z } from 'zod';
import { createKeySchema, createTeamSchema, updateKeySchema, updateTeamSchema } from './schemas.js';

/** The admin API described as OpenAPI 3.1, built once from the same schemas that validate requests. */

function schema(value: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const error = { $ref: '#/components/schemas/Error' };
const bearer = [{ bearer: [] }, { session: [] }];

function body(ref: string) {
  return { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } };
}

function answer(description: string, ref?: string) {
  return ref === undefined
    ? { description, content: { 'application/json': { schema: { type: 'object' } } } }
    : { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } };
}

const errors = {
  '400': { description: 'Invalid request; `error.param` names the field.', content: { 'application/json': { schema: error } } },
  '401': { description: 'No or unknown key.', content: { 'application/json': { schema: error } } },
  '403': { description: 'The key may not do this (e.g. another team).', content: { 'application/json': { schema: error } } },
  '404': { description: 'No such key or team.', content: { 'application/json': { schema: error } } },
};

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const document = {
  openapi: '3.1.0',
  info: {
    title: 'Stellwerk admin API',
    version: '1',
    description:
      'Teams, virtual keys and usage. Authenticate with the master key, or an admin key of a team (which sees and manages only its team). Times are ISO 8601; money is USD.',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      // The dashboard's session (docs/dashboard.md); changes made with it need the x-csrf-token header.
      session: { type: 'apiKey', in: 'cookie', name: 'stellwerk_session' },
    },
    schemas: {
      CreateKey: schema(createKeySchema),
      UpdateKey: schema(updateKeySchema),
      CreateTeam: schema(createTeamSchema),
      UpdateTeam: schema(updateTeamSchema),
      Error: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } },
          },
        },
      },
    },
  },
  security: bearer,
  paths: {
    '/admin/keys': {
      post: { summary: 'Create a key; the answer holds the secret `key`, shown only this once.', requestBody: body('CreateKey'), responses: { '201': answer('The key.'), ...errors } },
      get: { summary: 'List keys (an admin key: its team only).', responses: { '200': answer('The keys.'), ...errors } },
    },
    '/admin/keys/{id}': {
      parameters: [idParameter],
      get: { summary: 'One key.', responses: { '200': answer('The key.'), ...errors } },
      patch: { summary: 'Change limits, models, budget, state (active/blocked), data policy.', requestBody: body('UpdateKey'), responses: { '200': answer('The key.'), ...errors } },
      delete: { summary: 'Revoke the key, effective on every replica within a second.', responses: { '200': answer('The revoked key.'), ...errors } },
    },
    '/admin/keys/{id}/rotate': {
      parameters: [idParameter, { name: 'grace_ms', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } }],
      post: { summary: 'A new secret; the old one works for the grace period.', responses: { '200': answer('The key with its new secret.'), ...errors } },
    },
    '/admin/teams': {
      post: { summary: 'Create a team (master key only).', requestBody: body('CreateTeam'), responses: { '201': answer('The team.'), ...errors } },
      get: { summary: 'List teams.', responses: { '200': answer('The teams.'), ...errors } },
    },
    '/admin/teams/{id}': {
      parameters: [idParameter],
      get: { summary: 'One team.', responses: { '200': answer('The team.'), ...errors } },
      patch: { summary: 'Change a team (master key only).', requestBody: body('UpdateTeam'), responses: { '200': answer('The team.'), ...errors } },
      delete: { summary: 'Delete a team; its keys stay, without a team.', responses: { '200': answer('Deleted.'), ...errors } },
    },
    '/admin/usage': {
      get: {
        summary: 'Requests, tokens and spend, grouped.',
        parameters: [
          { name: 'group_by', in: 'query', schema: { type: 'string', enum: ['key', 'team', 'alias', 'deployment', 'day'] } },
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'format', in: 'query', description: '`csv`: text/csv with a header row.', schema: { type: 'string', enum: ['json', 'csv'] } },
        ],
        responses: {
          '200': { description: 'Usage rows.', content: { 'application/json': { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string' } } } },
          ...errors,
        },
      },
    },
    '/admin/stats': {
      get: {
        summary:
          'Time buckets of requests, errors, rps, latency and TTFT p50/p99 (from log-spaced histograms, ±4.5%), cost, energy and CO₂e, with totals and the spend of today and this month (UTC). An admin key sees its team only.',
        parameters: [
          { name: 'from', in: 'query', description: 'Inclusive; default 24 h before `to`.', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', description: 'Exclusive; default now.', schema: { type: 'string', format: 'date-time' } },
          { name: 'bucket', in: 'query', description: 'Default from the range; at most 1500 buckets.', schema: { type: 'string', enum: ['minute', 'hour', 'day'] } },
        ],
        responses: { '200': answer('Buckets and totals.'), ...errors },
      },
    },
    '/admin/fleet': {
      get: {
        summary:
          'Self-hosted inference servers (kind: self-hosted) as the fleet strategies see them: engine, waiting and running requests, KV-cache use, prefix-cache hit rate, LoRA adapters, token counters, last scrape age, stale flag and error, the gateway in-flight count, and picks and share of traffic over the window. Master key or admin keys (docs/fleet.md).',
        responses: {
          '200': {
            description: 'The servers.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    object: { const: 'list' },
                    window_ms: { type: ['integer', 'null'] },
                    data: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          backend: { type: 'string', description: 'Metrics URL without credentials or query (deployment:<name> for engines without metrics).' },
                          engine: { type: 'string' },
                          detected_engine: { type: ['string', 'null'] },
                          deployments: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, alias: { type: 'string' }, picks: { type: 'number' } } } },
                          waiting: { type: ['number', 'null'] },
                          running: { type: ['number', 'null'] },
                          kv_cache_usage: { type: ['number', 'null'], description: '0..1' },
                          prefix_cache_hit_rate: { type: ['number', 'null'], description: '0..1' },
                          loras: { type: 'object', properties: { running: { type: 'array', items: { type: 'string' } }, waiting: { type: 'array', items: { type: 'string' } }, max: { type: ['number', 'null'] } } },
                          prompt_tokens_total: { type: ['number', 'null'] },
                          generation_tokens_total: { type: ['number', 'null'] },
                          last_scrape_age_ms: { type: ['number', 'null'] },
                          stale: { type: 'boolean' },
                          error: { type: ['string', 'null'] },
                          gateway_in_flight: { type: 'number' },
                          gateway_prefill_tokens: { type: 'number', description: 'prompt tokens sent and not yet answered' },
                          sent_since_scrape: { type: 'number' },
                          picks: { type: 'number' },
                          share: { type: 'number' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    '/admin/models': {
      get: {
        summary: 'Aliases with their deployments: live circuit, availability, in-flight, cooldown, price, hardware and share of the last 15 minutes of traffic.',
        responses: { '200': answer('The aliases.'), ...errors },
      },
    },
    '/admin/budgets': {
      get: {
        summary: 'Teams and keys with their budget and the spend of the current budget period. An admin key sees its team only.',
        responses: { '200': answer('The budgets.'), ...errors },
      },
    },
    '/admin/requests': {
      get: {
        summary: 'The request log, newest first, filtered; one page at a time (follow `next_cursor`). An admin key sees its team only.',
        parameters: [
          { name: 'from', in: 'query', description: 'Inclusive.', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', description: 'Exclusive.', schema: { type: 'string', format: 'date-time' } },
          { name: 'key', in: 'query', description: 'Key id.', schema: { type: 'string' } },
          { name: 'team', in: 'query', description: 'Team id.', schema: { type: 'string' } },
          { name: 'alias', in: 'query', schema: { type: 'string' } },
          { name: 'deployment', in: 'query', schema: { type: 'string' } },
          { name: 'status', in: 'query', description: 'A status (200), a class (2xx, 4xx, 5xx) or `error` (every request that ended with an error code).', schema: { type: 'string', pattern: '^([1-5][0-9][0-9]|[1-5]xx|error)$' } },
          { name: 'min_latency_ms', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'max_latency_ms', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'min_tokens', in: 'query', description: 'Prompt plus completion tokens.', schema: { type: 'integer', minimum: 0 } },
          { name: 'min_cost_usd', in: 'query', schema: { type: 'number', minimum: 0 } },
          { name: 'cursor', in: 'query', description: '`next_cursor` of the previous page (opaque).', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        ],
        responses: { '200': answer('`{object: "list", data, has_more, next_cursor}`.'), ...errors },
      },
    },
    '/admin/requests/{id}': {
      parameters: [idParameter],
      get: { summary: 'One request with its attempts (deployment, status, error code, latency each); another team’s is 404 for an admin key.', responses: { '200': answer('The request.'), ...errors } },
    },
    '/admin/requests/{id}/body': {
      parameters: [idParameter],
      get: {
        summary: 'The prompt and completion of a request, PII redacted, kept only under a data policy with `log_bodies: true` (docs/audit.md); 404 when none was kept.',
        responses: { '200': answer('`{request_id, time, redacted, prompt, completion}`.'), ...errors },
      },
    },
    '/admin/audit': {
      get: {
        summary: 'The audit log, newest first (admin actions and request metadata); follow `next_cursor`. An admin key sees its team’s entries only.',
        parameters: [
          { name: 'from', in: 'query', description: 'Inclusive.', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', description: 'Exclusive.', schema: { type: 'string', format: 'date-time' } },
          { name: 'kind', in: 'query', description: 'A kind (`key.created`, `request`, …) or a group (`key`, `team`).', schema: { type: 'string' } },
          { name: 'cursor', in: 'query', description: '`next_cursor` of the previous page.', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { '200': answer('`{object: "list", data: [{seq, id, ts, time, kind, actor, team_id, subject, data, prev_hash, hash}], next_cursor}`.'), ...errors },
      },
    },
    '/admin/audit/verify': {
      get: {
        summary: 'Walks the hash chain and its checkpoints now: `status` ok or broken (`broken_at` seq and `reason`), entries, head, last checkpoint.',
        responses: { '200': answer('The chain status.'), ...errors },
      },
    },
  },
};

export const ADMIN_OPENAPI = JSON.stringify(document);
