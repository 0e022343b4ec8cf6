import type { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import { fromNanos } from '../guard/types.js';
import type { Stage } from '../server/lifecycle.js';
import type { RequestContext } from '../server/request-context.js';
import { readJson } from '../server/body.js';
import { sendJson } from '../server/respond.js';
import { ADMIN_OPENAPI } from './openapi.js';
import { createKeySchema, createTeamSchema, statsQuerySchema, updateKeySchema, updateTeamSchema, usageQuerySchema } from './schemas.js';
import { modelsView } from './models-view.js';
import { listRequests, requestDetail } from './requests.js';
import type { GovernanceService } from './service.js';
import type { Governance } from '../guard/governance.js';
import { auditQuerySchema, listAudit, requestBody, verifyAudit } from '../audit/admin-api.js';
import { fleetSnapshotOf } from '../fleet/fleet.js';
import { fleetView } from '../fleet/fleet-view.js';

/** An answer: JSON `body`, or `text` sent as it is with its content type (e.g. CSV). */
type Handler = (call: AdminCall) => Promise<{ status: number; body: unknown; text?: { contentType: string; body: string } }>;

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
  { method: 'GET', pattern: /^\/admin\/requests$/, handler: async (c) => ({ status: 200, body: await listRequests(c.service, c.ctx.identity, c.query) }) },
  { method: 'GET', pattern: new RegExp(`^/admin/requests/${ID}$`), handler: async (c) => ({ status: 200, body: await requestDetail(c.service, c.ctx.identity, c.params[0]!) }) },
  { method: 'GET', pattern: /^\/admin\/stats$/, handler: stats },
  { method: 'GET', pattern: /^\/admin\/models$/, handler: models },
  { method: 'GET', pattern: /^\/admin\/budgets$/, handler: budgets },
  { method: 'GET', pattern: /^\/admin\/fleet$/, handler: fleet },
  // The audit log and kept bodies (docs/audit.md); scoped to the caller's team for admin keys.
  { method: 'GET', pattern: /^\/admin\/audit$/, handler: async (c) => ({ status: 200, body: await listAudit(governanceOf(c), c.service.teamScope(c.ctx.identity), validate(auditQuerySchema, Object.fromEntries(c.query))) }) },
  {
    method: 'GET',
    pattern: /^\/admin\/audit\/verify$/,
    handler: async (c) => {
      c.service.teamScope(c.ctx.identity); // refuses keys that are not admin keys of a team
      return { status: 200, body: await verifyAudit(governanceOf(c)) };
    },
  },
  { method: 'GET', pattern: new RegExp(`^/admin/requests/${ID}/body$`), handler: async (c) => ({ status: 200, body: await requestBody(governanceOf(c), c.service.teamScope(c.ctx.identity), c.params[0]!) }) },
];

function governanceOf(call: AdminCall): Governance {
  return call.ctx.runtime.governance!;
}

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
    const { status, body, text } = await route.handler(call);
    if (text === undefined) sendJson(ctx, status, JSON.stringify(body));
    else sendText(ctx, status, text.contentType, text.body);
    return;
  }
  if (allowed.length > 0) {
    allowed = [...new Set(allowed)];
    throw new GatewayError('method_not_allowed', { message: `Use ${allowed.join(' or ')} here.`, headers: { allow: allowed.join(', ') } });
  }
  throw new GatewayError('route_not_found');
};

/** Self-hosted servers' live state (docs/fleet.md): for the master key and admin keys. */
async function fleet(call: AdminCall): Promise<{ status: number; body: unknown }> {
  const identity = call.ctx.identity;
  if (identity.kind !== 'master' && !(identity.kind === 'key' && identity.key.role === 'admin')) {
    throw new GatewayError('forbidden', { message: 'The fleet view needs the master key or an admin key.' });
  }
  return { status: 200, body: fleetView(fleetSnapshotOf(call.ctx.runtime.routes), Date.now()) };
}

async function usage(call: AdminCall): ReturnType<Handler> {
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
  if (query.format === 'csv') {
    const columns = [query.group_by, 'requests', 'prompt_tokens', 'completion_tokens', 'spend_usd', 'energy_wh', 'co2e_g', 'estimated_requests'];
    return { status: 200, body: null, text: { contentType: 'text/csv; charset=utf-8', body: toCsv(columns, data) } };
  }
  return { status: 200, body: { object: 'list', group_by: query.group_by, data } };
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const BUCKET_MS = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS } as const;
/** More buckets than a chart can draw would only cost the database: ask for a coarser bucket. */
const MAX_BUCKETS = 1_500;

async function stats(call: AdminCall): Promise<{ status: number; body: unknown }> {
  const query = validate(statsQuerySchema, Object.fromEntries(call.query));
  const now = Date.now();
  const to = query.to === undefined ? now : Date.parse(query.to);
  const from = query.from === undefined ? to - DAY_MS : Date.parse(query.from);
  if (!(from < to)) throw new GatewayError('invalid_request', { message: 'from must be before to.', param: 'from' });
  const bucket = query.bucket ?? (to - from <= 3 * HOUR_MS ? 'minute' : to - from <= 14 * DAY_MS ? 'hour' : 'day');
  const bucketMs = BUCKET_MS[bucket];
  const count = Math.floor((to - 1) / bucketMs) - Math.floor(from / bucketMs) + 1;
  if (count > MAX_BUCKETS) {
    throw new GatewayError('invalid_request', { message: `That is ${count} ${bucket} buckets; at most ${MAX_BUCKETS}: choose a coarser bucket or a shorter range.`, param: 'bucket' });
  }
  const result = await call.service.stats(call.ctx.identity, { from, to, bucketMs }, now);
  const totals = { requests: 0, errors: 0, cost_nanos: 0, energy_wh: 0, co2e_ug: 0 };
  const buckets = result.buckets.map((b) => {
    totals.requests += b.requests;
    totals.errors += b.errors;
    totals.cost_nanos += b.costNanos;
    totals.energy_wh += b.energyWh;
    totals.co2e_ug += b.co2eUg;
    return {
      ts: new Date(b.start).toISOString(),
      requests: b.requests,
      errors: b.errors,
      rps: b.requests / (bucketMs / 1000),
      error_rate: b.requests === 0 ? 0 : b.errors / b.requests,
      latency_p50_ms: b.latencyP50,
      latency_p99_ms: b.latencyP99,
      ttft_p50_ms: b.ttftP50,
      ttft_p99_ms: b.ttftP99,
      cost_usd: fromNanos(b.costNanos),
      energy_wh: b.energyWh,
      co2e_g: b.co2eUg / 1e6,
    };
  });
  return {
    status: 200,
    body: {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucket,
      buckets,
      totals: {
        requests: totals.requests,
        errors: totals.errors,
        cost_usd: fromNanos(totals.cost_nanos),
        energy_wh: totals.energy_wh,
        co2e_g: totals.co2e_ug / 1e6,
        spend_today_usd: fromNanos(result.spendTodayNanos),
        spend_month_usd: fromNanos(result.spendMonthNanos),
      },
    },
  };
}

/** The window over which GET /admin/models measures each deployment's share of its alias's traffic. */
const TRAFFIC_WINDOW_MS = 15 * MINUTE_MS;

async function models(call: AdminCall): Promise<{ status: number; body: unknown }> {
  const identity = call.ctx.identity;
  const now = Date.now();
  const traffic = await call.service.traffic(identity, now - TRAFFIC_WINDOW_MS);
  // An admin key sees the aliases its key and team may use.
  const key = identity.kind === 'key' ? identity : null;
  const allowed = (alias: string) => key === null || (allows(key.key.models, alias) && allows(key.team?.models ?? null, alias));
  return { status: 200, body: modelsView(call.ctx.runtime.routes, traffic, allowed, now) };
}

async function budgets(call: AdminCall): Promise<{ status: number; body: unknown }> {
  const views = await call.service.budgets(call.ctx.identity);
  const data = views.map((view) => ({
    scope: view.scope,
    id: view.id,
    name: view.name,
    budget_usd: view.budget,
    budget_period: view.budget_period,
    spent_usd: fromNanos(view.spent_nanos),
    period_start: new Date(view.period_start).toISOString(),
  }));
  return { status: 200, body: { object: 'list', data } };
}

function allows(models: readonly string[] | null, alias: string): boolean {
  return models === null || models.includes(alias);
}

/** RFC 4180 CSV with a header row; a cell that a spreadsheet would run as a formula is quoted as text. */
function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(','));
  return lines.join('\r\n') + '\r\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function sendText(ctx: RequestContext, status: number, contentType: string, body: string): void {
  ctx.status = status;
  ctx.headers.writeHead(ctx.res, status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  ctx.res.end(body);
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
