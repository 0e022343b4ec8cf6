import type { Dispatcher } from 'undici';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/types.js';
import type { Timeouts } from '../../config/deployment-base.js';
import { UpstreamClient } from '../http/upstream-client.js';
import type { EventStream, Parsed, ProviderAdapter, UpstreamCall } from '../types.js';
import { BedrockApi, PATHS, type AwsCredentials } from './api.js';
import { fromConverseResponse, toConverseRequest, type AnswerMeta, type ConverseExtras, type ConverseResponse } from './chat.js';
import {
  COHERE_BATCH,
  cohereBody,
  cohereVectors,
  embeddingList,
  embeddingTexts,
  titanBody,
  titanVector,
  type EmbeddingDialect,
} from './embeddings.js';
import { bedrockStatusError } from './errors.js';
import { EVENT_STREAM_TYPE, eventStreamFrames } from './event-stream.js';
import { converseChunks } from './stream.js';
import { mergeRecords } from '../../core/merge.js';

export interface BedrockSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly model: string;
  readonly connections: number;
  readonly timeouts: Timeouts;
  readonly extras: ConverseExtras;
  /** How `/v1/embeddings` is served; null when the model does not embed. */
  readonly embeddings: EmbeddingDialect | null;
  readonly cohereInputType: string;
}

/** Titan embeds one text per call; this many calls of one request run at once. */
const TITAN_PARALLEL = 8;

/**
 * AWS Bedrock Runtime: chat through Converse and ConverseStream, embeddings through InvokeModel,
 * every request signed with SigV4 (api.ts). Answers are built here, so `raw` is always null.
 */
export class BedrockAdapter implements ProviderAdapter {
  /** Present only when the model embeds (Titan or Cohere), so other models answer unsupported_endpoint. */
  readonly embeddings?: (request: EmbeddingsRequest, call: UpstreamCall) => Promise<Parsed<EmbeddingsResponse>>;
  private readonly api: BedrockApi;
  private readonly client: UpstreamClient;

  constructor(private readonly settings: BedrockSettings) {
    this.api = new BedrockApi(settings.endpoint, settings.region, settings.credentials);
    this.client = new UpstreamClient({
      baseUrl: settings.endpoint,
      timeouts: settings.timeouts,
      connections: settings.connections,
      secrets: this.api.secrets,
      statusError: bedrockStatusError,
    });
    if (settings.embeddings === 'titan') this.embeddings = (request, call) => this.titanEmbeddings(request, call);
    if (settings.embeddings === 'cohere') this.embeddings = (request, call) => this.cohereEmbeddings(request, call);
  }

  async chat(request: ChatRequest, call: UpstreamCall): Promise<Parsed<ChatResponse>> {
    const body = JSON.stringify(toConverseRequest(request, this.settings.extras));
    const response = await this.post(PATHS.converse(this.settings.model), body, null, call);
    const { value } = await this.client.readJson<ConverseResponse>(response, call);
    return { value: fromConverseResponse(value, this.answerMeta(response, call)), raw: null };
  }

  /** Resolves once the first event has arrived, so an exception in place of the answer keeps its status. */
  async chatStream(request: ChatRequest, call: UpstreamCall): Promise<EventStream<ChatChunk>> {
    const body = JSON.stringify(toConverseRequest(request, this.settings.extras));
    const response = await this.post(PATHS.converseStream(this.settings.model), body, null, call);
    const type = response.headers['content-type'];
    if (typeof type === 'string' && !type.toLowerCase().startsWith(EVENT_STREAM_TYPE)) {
      // Read off (up to undici's small limit) rather than destroyed: a destroyed body errors with no one listening.
      await response.body.dump().catch(() => undefined);
      throw new GatewayError('upstream_bad_response', { message: `The upstream answered a stream with "${type}" instead of an event stream.` });
    }
    const frames = eventStreamFrames(response.body, (error) => this.client.failure(error, call));
    return primed(converseChunks(frames, this.answerMeta(response, call), this.api.secrets));
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async post(path: string, body: string, accept: string | null, call: UpstreamCall): Promise<Dispatcher.ResponseData> {
    const signed = await this.api.signedHeaders(path, body, accept);
    // Headers added after signing are not covered by the signature, which AWS allows for non-x-amz ones.
    const headers = mergeRecords(call.forwardHeaders, { 'x-request-id': call.requestId }, signed);
    return this.client.send({ method: 'POST', path, headers, body }, call);
  }

  private answerMeta(response: Dispatcher.ResponseData, call: UpstreamCall): AnswerMeta {
    const awsId = response.headers['x-amzn-requestid'];
    return {
      id: `chatcmpl-${typeof awsId === 'string' && awsId.length > 0 ? awsId : call.requestId}`,
      model: this.settings.model,
      created: Math.floor(Date.now() / 1000),
    };
  }

  /** One InvokeModel call: its JSON answer and the input tokens Bedrock counted (a response header). */
  private async invoke(body: Record<string, unknown>, call: UpstreamCall): Promise<{ value: unknown; inputTokens: number }> {
    const response = await this.post(PATHS.invoke(this.settings.model), JSON.stringify(body), 'application/json', call);
    const { value } = await this.client.readJson<unknown>(response, call);
    const counted = Number(response.headers['x-amzn-bedrock-input-token-count']);
    return { value, inputTokens: Number.isFinite(counted) ? counted : 0 };
  }

  private async titanEmbeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const dimensions = typeof request.dimensions === 'number' ? request.dimensions : undefined;
    const bodies = embeddingTexts(request.input).map((text) => titanBody(this.settings.model, text, dimensions));
    const results = await mapLimited(bodies, TITAN_PARALLEL, async (body) => {
      const { value, inputTokens } = await this.invoke(body, call);
      const { vector, tokens } = titanVector(value);
      return { vector, tokens: tokens || inputTokens };
    });
    const tokens = results.reduce((sum, result) => sum + result.tokens, 0);
    const value = embeddingList(results.map((result) => result.vector), tokens, this.settings.model, request.encoding_format);
    return { value, raw: null };
  }

  private async cohereEmbeddings(request: EmbeddingsRequest, call: UpstreamCall): Promise<Parsed<EmbeddingsResponse>> {
    const dimensions = typeof request.dimensions === 'number' ? request.dimensions : undefined;
    const texts = embeddingTexts(request.input);
    const vectors: number[][] = [];
    let tokens = 0;
    for (let start = 0; start < texts.length; start += COHERE_BATCH) {
      const batch = texts.slice(start, start + COHERE_BATCH);
      const { value, inputTokens } = await this.invoke(cohereBody(batch, this.settings.cohereInputType, dimensions), call);
      vectors.push(...cohereVectors(value, batch.length));
      tokens += inputTokens;
    }
    return { value: embeddingList(vectors, tokens, this.settings.model, request.encoding_format), raw: null };
  }
}

/**
 * Waits for the stream's first item before handing the stream on. If the consumer stops early,
 * the inner stream is closed too (which frees the upstream connection).
 */
async function primed<T>(events: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await events.next();
  async function* rest(): AsyncGenerator<T> {
    try {
      if (first.done === true) return;
      yield first.value;
      yield* events;
    } finally {
      await events.return(undefined);
    }
  }
  return rest();
}

/** Runs `task` over `items` with at most `limit` at once; results keep the items' order. */
async function mapLimited<I, O>(items: readonly I[], limit: number, task: (item: I) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
