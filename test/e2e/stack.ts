import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulators/openai-compatible.js';

/**
 * What every end-to-end test file needs: an emulated upstream, a gateway in front of it, an
 * official OpenAI SDK client pointed at the gateway, and ways to wait on events with a deadline.
 */

/** The upstream key every emulated deployment is configured with; it must never reach a client or a log. */
export const UPSTREAM_SECRET = 'sk-secret-e2e-7f3a9c1b5d2e4f6081a2';

export interface CapturedResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  /** The whole body as text (settles when the body has ended; '' if it could not be read). */
  readonly text: Promise<string>;
}

export interface Stack {
  readonly emulator: Emulator;
  readonly gateway: RunningGateway;
  /** SDK client for the gateway (maxRetries 0), recording every response into `captured`. */
  readonly client: OpenAI;
  /** SDK client straight to the emulator, for comparing what the gateway passes on with the original. */
  readonly direct: OpenAI;
  readonly captured: CapturedResponse[];
  close(): Promise<void>;
}

/** Starts an emulator, then a gateway from the YAML that `config` writes for the emulator's base URL. */
export async function startStack(config: (upstreamUrl: string) => string, emulatorOptions: EmulatorOptions = { apiKey: UPSTREAM_SECRET }): Promise<Stack> {
  const emulator = await startEmulator(emulatorOptions);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config(emulator.url), {});
  } catch (error) {
    await emulator.close();
    throw error;
  }
  const captured: CapturedResponse[] = [];
  return {
    emulator,
    gateway,
    client: gatewayClient(gateway, { captured }),
    direct: new OpenAI({ baseURL: emulator.url, apiKey: emulatorOptions.apiKey ?? 'none', maxRetries: 0 }),
    captured,
    async close() {
      await gateway.close();
      await emulator.close();
    },
  };
}

export interface ClientOptions {
  readonly apiKey?: string;
  readonly defaultHeaders?: Record<string, string | null>;
  readonly captured?: CapturedResponse[];
}

/** The official SDK pointed at the gateway, no retries; optionally recording every raw response. */
export function gatewayClient(gateway: RunningGateway, options: ClientOptions = {}): OpenAI {
  const captured = options.captured;
  const capturingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    if (captured !== undefined) {
      captured.push({
        url: String(input instanceof Request ? input.url : input),
        status: response.status,
        headers: response.headers,
        text: response
          .clone()
          .text()
          .catch(() => ''),
      });
    }
    return response;
  };
  return new OpenAI({
    baseURL: `${gateway.url}/v1`,
    apiKey: options.apiKey ?? 'x',
    maxRetries: 0,
    fetch: capturingFetch,
    ...(options.defaultHeaders === undefined ? {} : { defaultHeaders: options.defaultHeaders }),
  });
}

/** Rejects when `promise` has not settled within `ms`: a deadline for waiting on an event, not a sleep. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

type LogLine = Record<string, unknown>;
const logListeners = new WeakMap<LogLine[], Set<(line: LogLine) => void>>();

/** Resolves with the first gateway log line, written already or to come, that matches. */
export function waitForLog(gateway: RunningGateway, predicate: (line: LogLine) => boolean, ms = 3_000): Promise<LogLine> {
  const logs = gateway.logs as LogLine[];
  const found = logs.find(predicate);
  if (found !== undefined) return Promise.resolve(found);
  let listeners = logListeners.get(logs);
  if (listeners === undefined) {
    const registered = new Set<(line: LogLine) => void>();
    listeners = registered;
    logListeners.set(logs, registered);
    const push = logs.push.bind(logs);
    logs.push = (...items: LogLine[]) => {
      const length = push(...items);
      for (const item of items) for (const listener of [...registered]) listener(item);
      return length;
    };
  }
  const set = listeners;
  let listener: ((line: LogLine) => void) | undefined;
  const seen = new Promise<LogLine>((resolve) => {
    listener = (line) => {
      if (predicate(line)) resolve(line);
    };
    set.add(listener);
  });
  return within(seen, ms, 'a matching gateway log line').finally(() => set.delete(listener!));
}

/** The request log line the gateway wrote for a request id. */
export function requestLog(gateway: RunningGateway, requestId: string, ms?: number): Promise<LogLine> {
  return waitForLog(gateway, (line) => line.msg === 'request' && line.request_id === requestId, ms);
}

/** A loopback port nobody listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** Asserts OpenAI's error shape, exactly: `{"error": {"message", "type", "param", "code"}}`. */
export function assertOpenAiError(value: unknown): { message: string; type: string; param: string | null; code: string | null } {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), 'the error body is an object');
  assert.deepEqual(Object.keys(value), ['error']);
  const error = (value as { error: unknown }).error;
  assert.ok(error !== null && typeof error === 'object', 'error is an object');
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  const { message, type, param, code } = error as Record<string, unknown>;
  assert.equal(typeof message, 'string');
  assert.ok((message as string).length > 0, 'the message is not empty');
  assert.equal(typeof type, 'string');
  assert.ok(param === null || typeof param === 'string', 'param is a string or null');
  assert.ok(code === null || typeof code === 'string', 'code is a string or null');
  assertNoLeak(JSON.stringify(value));
  return error as { message: string; type: string; param: string | null; code: string | null };
}

/** Text bound for a client or a log holds neither the upstream key nor a stack trace. */
export function assertNoLeak(text: string, secrets: readonly string[] = [UPSTREAM_SECRET]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked into: ${text.slice(0, 300)}`);
  assert.doesNotMatch(text, /\n\s+at [^\n]+:\d+:\d+/, 'no stack trace');
  assert.doesNotMatch(text, /\bat (async )?[\w.<>]+ \((file:|node:|\/)/, 'no stack frame');
}

/** The body of the last response the client received, parsed as JSON. */
export async function lastBody(captured: readonly CapturedResponse[]): Promise<unknown> {
  const last = captured[captured.length - 1];
  assert.ok(last !== undefined, 'a response was captured');
  return JSON.parse(await last.text) as unknown;
}

/** Runs `call`, which must fail, and returns what it threw. */
export async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}
