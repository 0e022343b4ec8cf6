import { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import type { Governance } from '../guard/governance.js';
import type { AuditEntry } from './types.js';
import { verifyAuditChain } from './verify.js';

/**
 * The admin API of the audit log and the body log: the master key sees everything; an admin key
 * of a team sees only its team's entries and bodies (the caller's scope comes from the admin
 * service). The router validates the query with these schemas.
 */

export const auditQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('Entries at or after this time.'),
  to: z.iso.datetime({ offset: true }).optional().describe('Entries before this time.'),
  kind: z
    .string()
    .regex(/^[a-z]+(\.[a-z]+)?$/, 'a kind such as key.created, or a group such as key')
    .optional()
    .describe('An entry kind (key.created, request, …) or a group (key, team).'),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, 'the next_cursor of the page before').optional().describe('`next_cursor` of the page before.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export type AuditQueryInput = z.infer<typeof auditQuerySchema>;

/** An entry as the API and the export show it: `ts` (epoch ms, hashed) beside `time` (ISO 8601, for people). */
export function entryView(entry: AuditEntry): Record<string, unknown> {
  return {
    seq: entry.seq,
    id: entry.id,
    ts: entry.ts,
    time: new Date(entry.ts).toISOString(),
    kind: entry.kind,
    actor: entry.actor,
    team_id: entry.team_id,
    subject: entry.subject,
    data: entry.data,
    prev_hash: entry.prev_hash,
    hash: entry.hash,
  };
}

function auditOf(governance: Governance) {
  const audit = governance.audit;
  if (audit === null) throw new GatewayError('route_not_found', { message: 'The audit log is off (audit.enabled: false).' });
  return audit;
}

/** GET /admin/audit: a page, newest first; `next_cursor` fetches the next older page. */
export async function listAudit(governance: Governance, scope: string | null, query: AuditQueryInput): Promise<Record<string, unknown>> {
  const audit = auditOf(governance);
  const entries = await audit.store.list({
    from: query.from === undefined ? null : Date.parse(query.from),
    to: query.to === undefined ? null : Date.parse(query.to),
    kind: query.kind ?? null,
    teamId: scope,
    beforeSeq: query.cursor === undefined ? null : Number(query.cursor),
    limit: query.limit,
  });
  const last = entries[entries.length - 1];
  return {
    object: 'list',
    data: entries.map(entryView),
    next_cursor: entries.length === query.limit && last !== undefined && last.seq > 1 ? String(last.seq) : null,
  };
}

/**
 * GET /admin/audit/verify: walks the chain now. It reads every entry, so it is an operator's
 * check, not something to poll every second on a large log.
 */
export async function verifyAudit(governance: Governance): Promise<Record<string, unknown>> {
  const audit = auditOf(governance);
  const report = await verifyAuditChain(audit.store, audit.secret);
  const last = report.checkpoints.last;
  return {
    status: report.ok ? 'ok' : 'broken',
    broken_at: report.broken?.seq ?? null,
    reason: report.broken?.reason ?? null,
    entries: report.entries,
    head: report.head,
    checkpoints: report.checkpoints.count,
    signatures: report.checkpoints.signatures,
    last_checkpoint: last === null ? null : { seq: last.seq, hash: last.hash, time: new Date(last.ts).toISOString(), signed: last.signature !== null },
  };
}

/** GET /admin/requests/{id}/body: 404 when none was kept, or when it is another team's. */
export async function requestBody(governance: Governance, scope: string | null, id: string): Promise<Record<string, unknown>> {
  const body = await governance.bodies.get(id);
  if (body === null || (scope !== null && body.team_id !== scope)) {
    throw new GatewayError('not_found', { message: `No body was kept for request "${id}" (only under a data policy with log_bodies: true).` });
  }
  return { request_id: body.request_id, time: new Date(body.ts).toISOString(), redacted: true, prompt: body.prompt, completion: body.completion };
}
