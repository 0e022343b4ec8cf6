import type { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import { fromNanos } from '../guard/types.js';
import type { Stage } from '../server/lifecycle.js';
import type { RequestContext } from '../server/request-context.js';
import { readJson } from '../server/body.js';
import { sendJson } from '../server/respond.js';
import { ADMIN_OPENAPI } from './openapi.js';
import { createKeySchema, createTeamSchema, updateKeySchema, updateTeamSchema, usageQuerySchema } from './schemas.js';
import type { GovernanceService } from './service.js';

type Handler = (call: AdminCall) => Promise<{ status: number; body: unknown }>;

interface AdminCall {
  readonly ctx: RequestContext;
  readonly service: GovernanceService;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  body<S extends z.ZodType>(schema: S): Promise<z.infer<S>>;
}

interface AdminRoute {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

const ID = '([A-Za-z0-9_-]{1,100})';

/** The admin API's path table: method, path pattern (ids captured), handler. */
const ROUTES: readonly AdminRoute[] = [
  { method: 'POST', pattern: /^\/admin\/keys$/, handler: async (c) => ({ status: 201, body: created(await c.service.createKey(c.ctx.identity, await c.body(createKeySchema))) }) },
  { method: 'GET', pattern: /^\/admin\/keys$/, handler: async (c) => ({ status: 200, body: list(await c.service.listKeys(c.ctx.identity)) }) },
  { method: 'GET', pattern: new RegExp(`^/admin/keys/${ID}$`), handler: async (c) => ({ status: 200, body: view(await c.service.getKey(c.ctx.identity, c.params[0]!)) }) },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/admin/keys/${ID}$`),
    handler: async (c) => ({ status: 200, body: view(await c.service.updateKey(c.ctx.identity, c.params[0]!, await c.body(updateKeySchema))) }),
  },
  { method: 'DELETE', pattern: new RegExp(`^/admin/keys/${ID}$`), handler: async (c) => ({ status: 200, body: view(await c.service.revokeKey(c.ctx.identity, c.params[0]!)) }) },
  {
    method: 'POST',
    pattern: new RegExp(`^/admin/keys/${ID}/rotate$`),
    handler: async (c) => {
      const grace = c.query.get('grace_ms');
      const graceMs = grace === null ? undefined : Number(grace);
      if (graceMs !== undefined && !(Number.isInteger(graceMs) && graceMs >= 0)) {
        throw new GatewayError('invalid_request', { message: 'grace_ms must be a whole number of milliseconds.', param: 'grace_ms' });
      }
      return { status: 200, body: created(await c.service.rotateKey(c.ctx.identity, c.params[0]!, graceMs)) };
    },
  },
  { method: 'POST', pattern: /^\/admin\/teams$/, handler: async (c) => ({ status: 201, body: view(await c.service.createTeam(c.ctx.identity, await c.body(createTeamSchema))) }) },
  { method: 'GET', pattern: /^\/admin\/teams$/, handler: async (c) => ({ status: 200, body: list(await c.service.listTeams(c.ctx.identity)) }) },
  { method: 'GET', pattern: new RegExp(`^/admin/teams/${ID}$`), handler: async (c) => ({ status: 200, body: view(await c.service.getTeam(c.ctx.identity, c.params[0]!)) }) },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/admin/teams/${ID}$`),
    handler: async (c) => ({ status: 200, body: view(await c.service.updateTeam(c.ctx.identity, c.params[0]!, await c.body(updateTeamSchema))) }),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/admin/teams/${ID}$`),
    handler: async (c) => {
      await c.service.deleteTeam(c.ctx.identity, c.params[0]!);
      return { status: 200, body: { id: c.params[0], deleted: true } };
    },
  },
  { method: 'GET', pattern: /^\/admin\/usage$/, handler: usage },
];

/** The API's description is public: it holds no data. */
export const serveAdminOpenApi: Stage = (ctx) => {
  sendJson(ctx, 200, ADMIN_OPENAPI);
};

/** Runs the admin request: finds its route, checks rights through the service, answers JSON. */
export const dispatchAdmin: Stage = async (ctx) => {
  const url = new URL(ctx.req.url ?? '/', 'http://gateway');
  const service = ctx.runtime.governance?.service;
  if (service === undefined) throw new GatewayError('route_not_found', { message: 'The admin API is not available: governance is off.' });
  if (ctx.identity.kind === 'anonymous') {
    throw new GatewayError('invalid_api_key', { message: 'The admin API needs the master key or an admin key (Authorization: Bearer …).' });
  }
  let allowed: string[] = [];
  for (const route of ROUTES) {
    const match = route.pattern.exec(url.pathname);
    if (match === null) continue;
    if (route.method !== ctx.req.method) {
      allowed.push(route.method);
      continue;
    }
    const call: AdminCall = { ctx, service, params: match.slice(1), query: url.searchParams, body: (schema) => parseBody(ctx, schema) };
    const { status, body } = await route.handler(call);
    sendJson(ctx, status, JSON.stringify(body));
    return;
  }
  if (allowed.length > 0) {
    allowed = [...new Set(allowed)];
    throw new GatewayError('method_not_allowed', { message: `Use ${allowed.join(' or ')} here.`, headers: { allow: allowed.join(', ') } });
  }
  throw new GatewayError('route_not_found');
};

async function usage(call: AdminCall): Promise<{ status: number; body: unknown }> {
  const query = validate(usageQuerySchema, Object.fromEntries(call.query));
  const rows = await call.service.usage(call.ctx.identity, {
    groupBy: query.group_by,
    from: query.from === undefined ? null : Date.parse(query.from),
    to: query.to === undefined ? null : Date.parse(query.to),
  });
  const data = rows.map((row) => ({
    [query.group_by]: row.group,
    requests: row.requests,
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    spend_usd: fromNanos(row.cost_nanos),
    energy_wh: row.energy_wh,
    co2e_g: row.co2e_ug / 1e6,
    estimated_requests: row.estimated_requests,
  }));
  return { status: 200, body: { object: 'list', group_by: query.group_by, data } };
}

async function parseBody<S extends z.ZodType>(ctx: RequestContext, schema: S): Promise<z.infer<S>> {
  const { value } = await readJson(ctx.req, ctx.runtime.config.server.max_body_bytes);
  return validate(schema, value);
}

function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const param = path.map(String).join('.');
  throw new GatewayError('invalid_request', { message: param === '' ? issue.message : `${param}: ${issue.message}`, param: param || null });
}

/** Times as ISO 8601 in answers; the store keeps epoch milliseconds. */
function view(record: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    out[name] = name.endsWith('_at') && typeof value === 'number' ? new Date(value).toISOString() : value;
  }
  return out;
}

function list(records: readonly object[]): { object: 'list'; data: Record<string, unknown>[] } {
  return { object: 'list', data: records.map(view) };
}

/** A new or rotated key: the secret, shown this once, beside its record. */
function created(result: { key: string; record: object }): Record<string, unknown> {
  return { key: result.key, ...view(result.record) };
}
