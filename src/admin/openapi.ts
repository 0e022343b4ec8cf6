import { z } from 'zod';
import { createKeySchema, createTeamSchema, updateKeySchema, updateTeamSchema } from './schemas.js';

/** The admin API described as OpenAPI 3.1, built once from the same schemas that validate requests. */

function schema(value: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const error = { $ref: '#/components/schemas/Error' };
const bearer = [{ bearer: [] }];

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
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
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
          { name: 'group_by', in: 'query', schema: { type: 'string', enum: ['key', 'team', 'alias', 'day'] } },
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { '200': answer('Usage rows.'), ...errors },
      },
    },
  },
};

export const ADMIN_OPENAPI = JSON.stringify(document);
