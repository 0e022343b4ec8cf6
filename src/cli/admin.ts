import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { builtinConfig } from '../config/builtin.js';
import { randomBytes } from 'node:crypto';
import { Gateway } from '../server/gateway.js';
import { createLogger } from '../telemetry/logger.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

export const ADMIN_HELP = `Manage keys and teams of a running gateway (or straight in its store).

Usage:
  stellwerk keys create [--name N] [--team ID] [--role user|admin] [--models a,b] [limits] [--expires ISO] [--data-policy JSON]
  stellwerk keys list
  stellwerk keys get ID
  stellwerk keys revoke ID
  stellwerk keys rotate ID [--grace-ms N]
  stellwerk teams create --name N [--models a,b] [limits] [--data-policy JSON]
  stellwerk teams list
  stellwerk teams get ID
  stellwerk teams delete ID
  stellwerk usage [--group-by key|team|alias|day] [--from ISO] [--to ISO]

Limits: --rpm N --tpm N --max-parallel N --budget USD --budget-period day|week|month|total

Where:
  --url URL     the gateway (default http://127.0.0.1:4000; env STELLWERK_URL)
  --key KEY     the master key or an admin key (env STELLWERK_MASTER_KEY)
  --store       work on the store directly instead (config from --config / STELLWERK_CONFIG,
                or DATABASE_URL and STELLWERK_KEY_PEPPER), e.g. before the first start
  --config FILE config file for --store
`;

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  store: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  name: { type: 'string' },
  team: { type: 'string' },
  role: { type: 'string' },
  models: { type: 'string' },
  rpm: { type: 'string' },
  tpm: { type: 'string' },
  'max-parallel': { type: 'string' },
  budget: { type: 'string' },
  'budget-period': { type: 'string' },
  expires: { type: 'string' },
  'grace-ms': { type: 'string' },
  'group-by': { type: 'string' },
  'data-policy': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** One admin call: method, path under /admin, optional JSON body. */
interface AdminRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

/** `stellwerk keys|teams|usage …`: builds the admin API call, sends it over HTTP or runs it on the store. */
export async function runAdmin(command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    process.stdout.write(ADMIN_HELP);
    return 0;
  }
  const request = adminRequest(command, positionals, values);
  const { status, body } = values.store ? await viaStore(request, values) : await viaHttp(request, values);
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  return status >= 200 && status < 300 ? 0 : 1;
}

function adminRequest(command: string, positionals: string[], values: Values): AdminRequest {
  const [action, id, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const needId = () => {
    if (id === undefined) throw new UsageError(`${command} ${action} needs an id`);
    return encodeURIComponent(id);
  };
  if (command === 'usage') {
    const query = new URLSearchParams();
    if (values['group-by']) query.set('group_by', values['group-by']);
    if (values.from) query.set('from', values.from);
    if (values.to) query.set('to', values.to);
    return { method: 'GET', path: `/admin/usage${query.size > 0 ? `?${query}` : ''}` };
  }
  const base = command === 'keys' ? '/admin/keys' : '/admin/teams';
  switch (action) {
    case 'create':
      return { method: 'POST', path: base, body: command === 'keys' ? keyBody(values) : teamBody(values) };
    case 'list':
      return { method: 'GET', path: base };
    case 'get':
      return { method: 'GET', path: `${base}/${needId()}` };
    case 'revoke':
      if (command !== 'keys') break;
      return { method: 'DELETE', path: `${base}/${needId()}` };
    case 'delete':
      if (command !== 'teams') break;
      return { method: 'DELETE', path: `${base}/${needId()}` };
    case 'rotate':
      if (command !== 'keys') break;
      return { method: 'POST', path: `${base}/${needId()}/rotate${values['grace-ms'] ? `?grace_ms=${encodeURIComponent(values['grace-ms'])}` : ''}` };
  }
  throw new UsageError(`unknown action "${action ?? ''}" for ${command}; see "stellwerk ${command} --help"`);
}

function limits(values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const number = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number`);
    return parsed;
  };
  for (const [flag, field] of [['rpm', 'rpm'], ['tpm', 'tpm'], ['max-parallel', 'max_parallel'], ['budget', 'budget']] as const) {
    const value = number(flag, values[flag]);
    if (value !== undefined) out[field] = value;
  }
  if (values['budget-period']) out.budget_period = values['budget-period'];
  if (values.models) out.models = values.models.split(',').map((model) => model.trim()).filter(Boolean);
  return out;
}

function keyBody(values: Values): Record<string, unknown> {
  const body = limits(values);
  if (values.name) body.name = values.name;
  if (values.team) body.team = values.team;
  if (values.role) body.role = values.role;
  if (values.expires) body.expires_at = values.expires;
  if (values['data-policy'] !== undefined) body.data_policy = dataPolicy(values['data-policy']);
  return body;
}

/** `--data-policy '{"log_bodies":true,"privacy":{"mode":"redact"}}'`: a JSON object, checked by the API. */
function dataPolicy(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--data-policy must be a JSON object, e.g. \'{"log_bodies":true}\'');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--data-policy must be a JSON object');
  return value as Record<string, unknown>;
}

function teamBody(values: Values): Record<string, unknown> {
  if (!values.name) throw new UsageError('teams create needs --name');
  const body: Record<string, unknown> = { name: values.name, ...limits(values) };
  if (values['data-policy'] !== undefined) body.data_policy = dataPolicy(values['data-policy']);
  return body;
}

async function viaHttp(request: AdminRequest, values: Values): Promise<{ status: number; body: unknown }> {
  const url = (values.url ?? process.env.STELLWERK_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
  const key = values.key ?? process.env.STELLWERK_MASTER_KEY;
  if (!key) throw new UsageError('give the master key or an admin key with --key or STELLWERK_MASTER_KEY (or use --store)');
  let response: Response;
  try {
    response = await fetch(url + request.path, {
      method: request.method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
  } catch (error) {
    throw new UsageError(`cannot reach the gateway at ${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}

/**
 * Runs the call in this process against the store, with the same router, validation and rights
 * as over HTTP: a gateway from the config listens on an ephemeral loopback port for this one
 * call, with a one-time master key, and is shut down again.
 */
async function viaStore(request: AdminRequest, values: Values): Promise<{ status: number; body: unknown }> {
  const path = values.config ?? process.env.STELLWERK_CONFIG;
  const loaded = path === undefined ? builtinConfig() : loadConfigFile(path);
  const masterKey = randomBytes(24).toString('base64url');
  const config = { ...loaded, auth: { ...loaded.auth, master_key: masterKey } };
  const gateway = new Gateway(config, { logger: createLogger('warn', 2) });
  const address = await gateway.listen(0, '127.0.0.1');
  try {
    return await viaHttp(request, { ...values, url: `http://127.0.0.1:${address.port}`, key: masterKey });
  } finally {
    await gateway.shutdown(5_000);
  }
}
