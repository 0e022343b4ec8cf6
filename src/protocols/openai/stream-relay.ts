import { toGatewayError } from '../../core/errors.js';
import type { EventStream } from '../../providers/types.js';
import { eventBatches } from '../../providers/event-batches.js';
import type { RequestContext } from '../../server/request-context.js';
import { openAiErrorBody } from './errors.js';
import { usageOf } from './operations.js';
import { drained } from '../../server/drain.js';
import { writeBatched } from '../../server/batched-write.js';
import { completeUsage, observeStreamChunk, observeStreamEvent, settleAccounting, syntheticUsageChunk, usageExtension } from '../../accounting/request.js';

/** Text a chunk carrying a usage object must contain (`"usage":null` does not match). */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

type OpenAiChunk = { usage?: unknown; choices?: unknown[]; stellwerk?: unknown };

/**
 * A parsed chunk's text for the client (`raw` when it can go as it came), or null when it is
 * not for the client: notes its usage or its text, hides usage from a client that did not ask
 * for it, and adds the request's figures to the usage chunk of one that did.
 */
function chunkText(ctx: RequestContext, chunk: OpenAiChunk, raw: string | null): string | null {
  const usage = chunk.usage === undefined ? null : usageOf(chunk);
  if (usage === null) observeStreamChunk(ctx, chunk);
  else ctx.usage = usage;
  if (chunk.usage === undefined) return raw ?? JSON.stringify(chunk);
  if (!ctx.clientWantsUsage) {
    if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) return null;
    delete chunk.usage;
    return JSON.stringify(chunk);
  }
  if (usage !== null) {
    const figures = settleAccounting(ctx);
    if (figures !== null && figures.known) {
      chunk.stellwerk = usageExtension(figures);
      return JSON.stringify(chunk);
    }
  }
  return raw ?? JSON.stringify(chunk);
}

/**
 * Sends a started upstream stream to the client as OpenAI server-sent events: the events of one
 * upstream read go in one write (one string, one HTTP chunk), and the socket must drain before
 * more is taken (backpressure up to the upstream). The usage chunk is kept for accounting and
 * shown only to a client that asked for it, with the request's cost, energy and CO₂e added as
 * `stellwerk` (headers are sent by then). Without a usage chunk the streamed text is counted at
 * the end (usage marked estimated), and a client that asked for usage gets a usage chunk made by
 * the gateway. A failure after the first byte ends the stream with an `{"error": …}` event,
 * never a hang.
 */
export async function relayOpenAiStream(ctx: RequestContext, events: EventStream<unknown>): Promise<void> {
  const res = ctx.res;
  ctx.status = 200;
  ctx.headers.writeHead(res, 200, SSE_HEADERS);
  const batches = eventBatches(events);
  /** The batch's text so far: on a failure in the middle of a batch, its events before it still go out. */
  let out = '';
  try {
    for (let batch = await batches.nextBatch(); batch !== null; batch = await batches.nextBatch()) {
      for (const event of batch) {
        const raw = event.raw;
        // An ordinary chunk (no usage to take out or add to) goes on as the upstream wrote it,
        // unparsed; the stream tally looks at it only if no usage ever arrives.
        const ordinary = raw !== null && !USAGE_OBJECT.test(raw) && (ctx.clientWantsUsage || !raw.includes('"usage"'));
        if (ordinary) observeStreamEvent(ctx, event);
        const text = ordinary ? raw : chunkText(ctx, event.value as OpenAiChunk, raw);
        if (text !== null) out += 'data: ' + text + '\n\n';
      }
      if (out === '') continue;
      if (ctx.ttftMs === null) ctx.ttftMs = ctx.elapsedMs();
      const fits = writeBatched(res, out);
      out = '';
      if (!fits) await drained(ctx);
    }
    if (ctx.usage === null) {
      await completeUsage(ctx);
      if (ctx.clientWantsUsage && ctx.usage !== null) {
        const chunk = syntheticUsageChunk(ctx, ctx.usage, settleAccounting(ctx));
        if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(ctx);
      }
    }
    res.end('data: [DONE]\n\n');
  } catch (thrown) {
    batches.return();
    const error = toGatewayError(thrown);
    ctx.error = error;
    // What was streamed before the break was generated (and billed upstream): count it.
    await completeUsage(ctx).catch(() => {});
    if (error.code === 'client_closed_request' || res.destroyed) {
      ctx.status = 499;
      return;
    }
    if (out !== '' && ctx.ttftMs === null) ctx.ttftMs = ctx.elapsedMs();
    res.end(`${out}data: ${openAiErrorBody(error)}\n\n`);
  }
}
