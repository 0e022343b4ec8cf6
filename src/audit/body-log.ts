import type { Kysely } from 'kysely';
import { StreamTally } from '../accounting/stream-tally.js';
import { logBodiesFor } from '../guard/data-policy.js';
import { guardBody } from '../guard/pii/guard.js';
import type { PrivacyPolicy } from '../guard/pii/policy.js';
import { restoreText, type Pseudonyms } from '../guard/pii/pseudonyms.js';
import { textSlots } from '../guard/pii/request-text.js';
import type { EventStream } from '../providers/types.js';
import type { Stage } from '../server/lifecycle.js';
import type { RequestContext } from '../server/request-context.js';
import type { StoreSchema } from '../store/schema.js';
import { BatchQueue } from './batch-queue.js';

/**
 * Request bodies under a `log_bodies: true` data policy (key's, else team's): the prompt and
 * the completion, with personal data redacted by the PII guard in `redact` mode whatever the
 * request's own privacy mode, written in batches off the request path into `request_bodies`,
 * and deleted with the request rows by retention. Without the policy nothing is kept.
 */

/** Every PII type, redacted: what is stored must not hold personal data, whatever the key's policy. */
const REDACT_ALL: PrivacyPolicy = { mode: 'redact', types: undefined, thresholds: {}, nlp: false };

/** What a request under `log_bodies` collects of its answer while it streams. */
export class BodyCapture {
  /** The streamed text (content, tool-call arguments); null for a whole answer. */
  tally: StreamTally | null = null;
}

/**
 * Marks a request whose bodies are to be kept and, for a stream, taps its text on the way to the
 * client. Runs after restorePrivacy; costs a property read when the policy is off.
 */
export const captureBodies: Stage = (ctx) => {
  if (!logBodiesFor(ctx.identity)) return;
  const capture = new BodyCapture();
  ctx.bodyCapture = capture;
  const result = ctx.result;
  if (result?.kind === 'stream') {
    const tally = new StreamTally();
    capture.tally = tally;
    ctx.result = { kind: 'stream', events: tapStream(result.events, tally) };
  }
};

async function* tapStream(events: EventStream<unknown>, tally: StreamTally): EventStream<unknown> {
  for await (const event of events) {
    tally.observe(event.value);
    yield event;
  }
}

/** The answer's text as the client got it (before redaction); null when there was none. */
export function completionOf(ctx: RequestContext): string | null {
  const capture = ctx.bodyCapture;
  if (capture === null) return null;
  if (capture.tally !== null) return capture.tally.text();
  const result = ctx.result;
  if (result === null || result.kind !== 'json') return null;
  const choices = (result.parsed.value as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return null;
  let text = '';
  for (const choice of choices as { message?: { content?: unknown; tool_calls?: unknown }; text?: unknown }[]) {
    if (typeof choice?.text === 'string') text += choice.text;
    const message = choice?.message;
    if (typeof message?.content === 'string') text += message.content;
    for (const call of Array.isArray(message?.tool_calls) ? (message.tool_calls as { function?: { arguments?: unknown } }[]) : []) {
      if (typeof call?.function?.arguments === 'string') text += call.function.arguments;
    }
  }
  return text;
}

/** A body waiting to be redacted and written; holds the request's own objects, copied only when written. */
export interface PendingBody {
  /** The request row's id. */
  readonly requestId: string;
  readonly ts: number;
  readonly teamId: string | null;
  /** The body as sent upstream: under `pseudonymize` its texts hold placeholders. */
  readonly prompt: unknown;
  /** The placeholders' originals, so that every prompt is stored in the same redacted form. */
  readonly pseudonyms: Pseudonyms | null;
  readonly completion: string | null;
}

/** A stored body, as the admin API shows it. */
export interface StoredBody {
  readonly request_id: string;
  readonly ts: number;
  readonly team_id: string | null;
  readonly prompt: unknown;
  readonly completion: string | null;
}

/** The prompt (the request body as sent upstream) and the completion, with personal data redacted. */
export function redactBodies(pending: PendingBody): { prompt: unknown; completion: string | null } {
  const prompt = structuredClone(pending.prompt);
  const pseudonyms = pending.pseudonyms;
  if (pseudonyms !== null) for (const slot of textSlots(prompt)) slot.replace(restoreText(slot.text, pseudonyms));
  guardBody(prompt, REDACT_ALL);
  let completion = pending.completion;
  if (completion !== null) {
    // The guard works on request-shaped bodies; a one-field holder lets it redact a plain text.
    const holder = { input: completion };
    guardBody(holder, REDACT_ALL);
    completion = holder.input;
  }
  return { prompt, completion };
}

export class BodyLog {
  private readonly queue: BatchQueue<PendingBody>;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    hooks: { onError?: (error: unknown) => void; onDrop?: (count: number) => void; flushIntervalMs?: number } = {},
  ) {
    this.queue = new BatchQueue<PendingBody>({
      write: (items) => this.write(items),
      batchSize: 100,
      flushIntervalMs: hooks.flushIntervalMs,
      onDrop: hooks.onDrop,
      onError: (error) => hooks.onError?.(error),
    });
  }

  /** Synchronous and O(1): the redaction happens in the batch write. */
  enqueue(pending: PendingBody): void {
    this.queue.enqueue(pending);
  }

  flush(timeoutMs?: number): Promise<boolean> {
    return this.queue.flush(timeoutMs);
  }

  close(timeoutMs?: number): Promise<boolean> {
    return this.queue.close(timeoutMs);
  }

  async get(requestId: string): Promise<StoredBody | null> {
    const row = await this.db.selectFrom('request_bodies').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    if (row === undefined) return null;
    return {
      request_id: row.request_id,
      ts: Number(row.ts),
      team_id: row.team_id,
      prompt: typeof row.prompt === 'string' ? (JSON.parse(row.prompt) as unknown) : row.prompt,
      completion: row.completion,
    };
  }

  private async write(items: readonly PendingBody[]): Promise<void> {
    const rows = items.map((item) => {
      const { prompt, completion } = redactBodies(item);
      return {
        request_id: item.requestId,
        ts: Math.round(item.ts),
        team_id: item.teamId,
        // Postgres text and JSONB cannot hold NUL; a client's odd body must not block the batch.
        prompt: JSON.stringify(prompt ?? null).replaceAll('\\u0000', ''),
        completion: completion === null ? null : completion.replaceAll('\u0000', ''),
      };
    });
    await this.db.insertInto('request_bodies').values(rows).onConflict((conflict) => conflict.column('request_id').doNothing()).execute();
  }
}
