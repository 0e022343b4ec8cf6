import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatRequestError, outputText, parseChatRequest, type ChatRequest } from './chat-request.js';
import { RealClock } from './clock.js';
import { Engine, type FinishedRequest } from './engine.js';
import { SimMetrics } from './metrics.js';
import { blockHashes } from './prompt-blocks.js';
import type { SimProfile } from './profiles.js';

/**
 * A simulated OpenAI-compatible inference server (a stand-in for vLLM) over the engine in real
 * time: POST /v1/chat/completions (whole or streamed, paced by the engine's steps), GET
 * /v1/models, GET /metrics (vLLM's names) and GET /health. Answers carry usage with
 * prompt_tokens_details.cached_tokens from the prefix cache.
 */
export interface SimServerOptions {
  readonly profile: SimProfile;
  /** The model id clients send; defaults to the profile's model. */
  readonly servedModel?: string;
  /** LoRA adapters served next to the base model (a request names one as its model). */
  readonly loras?: readonly string[];
  /** Output tokens when a request sets neither max_tokens nor max_completion_tokens. */
  readonly defaultOutputTokens?: number;
  readonly maxLoras?: number;
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes?: number;
}

export const DEFAULT_OUTPUT_TOKENS = 256;

export class SimServer {
  private current: { engine: Engine; metrics: SimMetrics };
  readonly servedModel: string;
  private readonly clock = new RealClock();
  private readonly http: Server;
  private readonly loras: ReadonlySet<string>;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(private readonly options: SimServerOptions) {
    this.servedModel = options.servedModel ?? options.profile.model.id;
    this.loras = new Set(options.loras ?? []);
    this.current = this.fresh();
    this.http = createServer((req, res) => this.route(req, res));
    this.http.keepAliveTimeout = 60_000;
  }

  get engine(): Engine {
    return this.current.engine;
  }

  get metrics(): SimMetrics {
    return this.current.metrics;
  }

  /**
   * Starts over with an empty engine (cold cache, zero counters) on the same socket, so a
   * benchmark's runs are independent without restarting servers the gateway holds connections to.
   * Requests in flight are dropped.
   */
  reset(): void {
    this.current = this.fresh();
  }

  private fresh(): { engine: Engine; metrics: SimMetrics } {
    const engine = new Engine(this.options.profile.engine, this.clock, this.options.maxLoras ?? 4);
    return { engine, metrics: new SimMetrics(engine, this.servedModel) };
  }

  /** Listens; resolves with the base URL of its OpenAI API (…/v1). */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address() as AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    return `http://${shown}:${address.port}/v1`;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      this.chat(req, res).catch(() => res.destroy());
    } else if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [this.servedModel, ...this.loras].map((id) => ({ id, object: 'model', created: this.created, owned_by: 'stellwerk-sim', max_model_len: this.engine.params.maxModelLen })) });
    } else if (req.method === 'GET' && path === '/metrics') {
      this.metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
          res.end(text);
        },
        () => sendError(res, 500, 'metrics failed', 'internal_error', null),
      );
    } else if (req.method === 'GET' && path === '/health') {
      res.writeHead(200).end();
    } else {
      sendError(res, 404, `no route for ${req.method} ${path}`, 'not_found_error', null);
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request: ChatRequest;
    try {
      const body = await readBody(req, this.options.maxBodyBytes ?? 32 * 1024 * 1024);
      request = parseChatRequest(JSON.parse(body), this.options.defaultOutputTokens ?? DEFAULT_OUTPUT_TOKENS);
    } catch (error) {
      if (error instanceof BodyTooLarge) return sendError(res, 413, error.message, 'invalid_request_error', null);
      const param = error instanceof ChatRequestError ? error.param : null;
      const message = error instanceof SyntaxError ? `the body is not valid JSON: ${error.message}` : (error as Error).message;
      return sendError(res, 400, message, 'invalid_request_error', param);
    }
    if (request.model !== this.servedModel && !this.loras.has(request.model)) {
      return sendError(res, 404, `The model \`${request.model}\` does not exist.`, 'NotFoundError', 'model');
    }
    const { engine, metrics } = this.current;
    const id = `chatcmpl-${randomUUID()}`;
    const arrival = this.clock.now();
    const lora = request.model === this.servedModel ? undefined : request.model;
    const onDone = (result: FinishedRequest) => metrics.observeFinish(result.finish - arrival);
    const stream = request.stream ? new ChunkWriter(res, id, request, this.created) : undefined;
    const submitted = engine.submit({
      id,
      promptTokens: request.tokens.length,
      blockHashes: blockHashes(request.tokens, engine.params.blockSize),
      outputTokens: request.outputTokens,
      lora,
      listener: {
        onFirstToken: (now) => metrics.observeFirstToken(now - arrival),
        onToken: stream === undefined ? undefined : (_now, generated) => stream.tokens(generated),
        onFinish: (result) => {
          onDone(result);
          if (stream !== undefined) stream.finish(result);
          else sendJson(res, 200, completion(id, request, result, this.created));
        },
      },
    });
    if (!submitted.ok) return sendError(res, 400, submitted.reason, 'BadRequestError', 'messages');
    // A client that leaves frees its place in the batch, as vLLM aborts the request.
    res.once('close', () => {
      if (!res.writableFinished) engine.abort(id);
    });
    stream?.open();
  }
}

/** Writes one SSE chunk per engine step with the tokens that step produced. */
class ChunkWriter {
  private sent = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly id: string,
    private readonly request: ChatRequest,
    private readonly created: number,
  ) {}

  open(): void {
    this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    this.res.flushHeaders();
  }

  tokens(generated: number): void {
    const delta: Record<string, string> = { content: outputText(this.sent, generated) };
    if (this.sent === 0) delta.role = 'assistant';
    this.sent = generated;
    this.event({ choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] });
  }

  finish(result: FinishedRequest): void {
    this.event({ choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(this.request) }] });
    if (this.request.includeUsage) this.event({ choices: [], usage: usage(result) });
    this.res.end('data: [DONE]\n\n');
  }

  private event(fields: Record<string, unknown>): void {
    this.res.write(`data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.request.model, ...fields })}\n\n`);
  }
}

function finishReason(request: ChatRequest): 'length' | 'stop' {
  return request.outputLimited ? 'length' : 'stop';
}

function usage(result: FinishedRequest) {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.outputTokens,
    total_tokens: result.promptTokens + result.outputTokens,
    prompt_tokens_details: { cached_tokens: result.cachedTokens },
  };
}

function completion(id: string, request: ChatRequest, result: FinishedRequest, created: number) {
  return {
    id,
    object: 'chat.completion',
    created,
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content: outputText(0, result.outputTokens) }, logprobs: null, finish_reason: finishReason(request) }],
    usage: usage(result),
  };
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge(`the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type: string, param: string | null): void {
  sendJson(res, status, { error: { message, type, param, code: status } });
}

/** Starts `count` servers of one profile on consecutive ports from `port` (0: any free ports). */
export async function startSimServers(options: SimServerOptions, count: number, port: number, host = '127.0.0.1'): Promise<{ servers: SimServer[]; urls: string[] }> {
  const servers: SimServer[] = [];
  const urls: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = new SimServer(options);
      servers.push(server);
      urls.push(await server.listen(port === 0 ? 0 : port + i, host));
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    throw error;
  }
  return { servers, urls };
}
