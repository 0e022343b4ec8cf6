import { toGatewayError } from '../../core/errors.js';
import type { EventStream } from '../../providers/types.js';
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

/**
 * Sends a started upstream stream to the client as OpenAI server-sent events (those of one
 * upstream read in one socket write), waiting for the socket to drain before pulling more
 * (backpressure up to the upstream). The usage chunk is kept for accounting and shown only to a client that asked for
 * it, with the request's cost, energy and CO₂e added as `stellwerk` (headers are sent by then).
 * Without a usage chunk the streamed text is counted at the end (usage marked estimated), and a
 * client that asked for usage gets a usage chunk made by the gateway. A failure after the first
 * byte ends the stream with an `{"error": …}` event, never a hang.
 */
export async function relayOpenAiStream(ctx: RequestContext, events: EventStream<unknown>): Promise<void> {
  const res = ctx.res;
  ctx.status = 200;
  res.writeHead(200, SSE_HEADERS);
  try {
    for await (const event of events) {
      let text = event.raw;
      // An ordinary chunk (no usage to take out or add to) goes on as the upstream wrote it,
      // unparsed; the stream tally looks at it only if no usage ever arrives.
      if (text !== null && !USAGE_OBJECT.test(text) && (ctx.clientWantsUsage || !text.includes('"usage"'))) {
        observeStreamEvent(ctx, event);
        if (ctx.ttftMs === null) ctx.ttftMs = ctx.elapsedMs();
        if (!writeBatched(res, `data: ${text}\n\n`)) await drained(ctx);
        continue;
      }
      const chunk = event.value as { usage?: unknown; choices?: unknown[]; stellwerk?: unknown };
      const usage = chunk.usage === undefined ? null : usageOf(chunk);
      if (usage === null) observeStreamChunk(ctx, chunk);
      else ctx.usage = usage;
      if (chunk.usage !== undefined) {
        if (!ctx.clientWantsUsage) {
          if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) continue;
          delete chunk.usage;
          text = null;
        } else if (usage !== null) {
          const figures = settleAccounting(ctx);
          if (figures !== null && figures.known) {
            chunk.stellwerk = usageExtension(figures);
            text = null;
          }
        }
      }
      if (ctx.ttftMs === null) ctx.ttftMs = ctx.elapsedMs();
      if (!writeBatched(res, `data: ${text ?? JSON.stringify(chunk)}\n\n`)) await drained(ctx);
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
    const error = toGatewayError(thrown);
    ctx.error = error;
    // What was streamed before the break was generated (and billed upstream): count it.
    await completeUsage(ctx).catch(() => {});
    if (error.code === 'client_closed_request' || res.destroyed) {
      ctx.status = 499;
      return;
    }
    res.end(`data: ${openAiErrorBody(error)}\n\n`);
  }
}
