import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { fallbackModelsYaml, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { tracingSettings } from '../../src/telemetry/tracing.js';
import { waitFor } from '../../src/store/testing/databases.js';

// The gateway reads the standard variable too; these tests configure tracing explicitly.
delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

const MASTER = 'master-key-tracing-test';
const PROMPT = 'the secret plan of the signal box';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: { stringValue?: string }[] } };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}

/** A real OTLP/HTTP receiver: what the exporter posts to /v1/traces, decoded from JSON. */
interface Receiver {
  readonly url: string;
  readonly spans: OtlpSpan[];
  readonly bodies: string[];
  readonly resources: Record<string, unknown>[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const spans: OtlpSpan[] = [];
  const bodies: string[] = [];
  const resources: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const text = raw.toString('utf8');
      bodies.push(text);
      const body = JSON.parse(text) as { resourceSpans: { resource: Record<string, unknown>; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resourceSpans of body.resourceSpans) {
        resources.push(resourceSpans.resource);
        for (const scope of resourceSpans.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, bodies, resources, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function attributesOf(span: OtlpSpan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of span.attributes) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.arrayValue !== undefined) out[key] = value.arrayValue.values.map((item) => item.stringValue);
  }
  return out;
}

function config(emulator: Emulator, telemetry: string): string {
  return `
auth: { master_key: ${MASTER} }
${telemetry}
${fallbackModelsYaml(emulator.url)}`;
}

function client(running: RunningGateway, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ apiKey: MASTER, baseURL: `${running.url}/v1`, maxRetries: 0, defaultHeaders: headers });
}

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

describe('tracing on', () => {
  let receiver: Receiver;
  let running: RunningGateway;
  before(async () => {
    receiver = await startReceiver();
    running = await startGateway(config(emulator, `telemetry: { otlp_endpoint: ${receiver.url}, service_name: stellwerk-test }`), {});
  });
  after(() => receiver.close());

  test('a retried request: one server span under the client’s trace, two attempt spans, each attempt’s traceparent upstream; flushed at shutdown', async () => {
    const before = emulator.requests.length;
    const answer = await client(running, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' }).chat.completions.create({
      model: 'main',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 20,
      temperature: 0.5,
    });
    assert.equal(answer.choices.length, 1);
    // A second request without a trace context starts a trace of its own.
    await client(running).chat.completions.create({ model: 'backup', messages: [{ role: 'user', content: 'hi' }] });
    const upstream = emulator.requests.slice(before);
    assert.equal(upstream.length, 3, 'the failing attempt, the fallback, the second request');

    // Shutting down exports what the batch processor still holds.
    await running.close();
    await waitFor(() => receiver.spans.length >= 5, 10_000, 'five spans at the receiver');
    assert.equal(receiver.spans.length, 5);

    const servers = receiver.spans.filter((span) => span.kind === 2);
    const attempts = receiver.spans.filter((span) => span.kind === 3);
    assert.equal(servers.length, 2);
    const request = servers.find((span) => span.traceId === CLIENT_TRACE)!;
    assert.ok(request, 'the client’s trace id is kept');
    assert.equal(request.parentSpanId, CLIENT_SPAN, 'the request span is a child of the client’s span');
    assert.equal(request.name, 'chat main');
    const requestAttributes = attributesOf(request);
    assert.equal(requestAttributes['gen_ai.operation.name'], 'chat');
    assert.equal(requestAttributes['gen_ai.request.model'], 'main');
    assert.equal(requestAttributes['gen_ai.response.model'], 'emu-model');
    assert.equal(requestAttributes['gen_ai.provider.name'], 'openai-compatible');
    assert.equal(requestAttributes['gen_ai.request.max_tokens'], 20);
    assert.equal(requestAttributes['gen_ai.request.temperature'], 0.5);
    assert.equal(requestAttributes['gen_ai.usage.input_tokens'], answer.usage!.prompt_tokens);
    assert.equal(requestAttributes['gen_ai.usage.output_tokens'], answer.usage!.completion_tokens);
    assert.deepEqual(requestAttributes['gen_ai.response.finish_reasons'], [answer.choices[0]!.finish_reason]);
    assert.equal(requestAttributes['http.response.status_code'], 200);
    assert.equal(requestAttributes['stellwerk.deployment'], 'healthy');
    assert.equal(requestAttributes['stellwerk.attempt'], 2);
    assert.equal(typeof requestAttributes['stellwerk.cost_usd'], 'number');
    assert.equal(requestAttributes['error.type'], undefined);

    const own = attempts.filter((span) => span.traceId === CLIENT_TRACE).sort((a, b) => Number(attributesOf(a)['stellwerk.attempt']) - Number(attributesOf(b)['stellwerk.attempt']));
    assert.equal(own.length, 2, 'a retried request has two attempt spans');
    const [failed, succeeded] = own.map(attributesOf);
    for (const span of own) assert.equal(span.parentSpanId, request.spanId, 'attempt spans are children of the request span');
    assert.equal(own[0]!.name, 'chat fail-500');
    assert.deepEqual(
      { model: failed!['gen_ai.request.model'], deployment: failed!['stellwerk.deployment'], status: failed!['http.response.status_code'], error: failed!['error.type'], server: failed!['server.address'] },
      { model: 'fail-500', deployment: 'failing', status: 500, error: 'upstream_error', server: '127.0.0.1' },
    );
    assert.equal(own[0]!.status?.code, 2, 'the failed attempt is marked as an error');
    assert.deepEqual(
      { model: succeeded!['gen_ai.request.model'], deployment: succeeded!['stellwerk.deployment'], status: succeeded!['http.response.status_code'], error: succeeded!['error.type'], port: succeeded!['server.port'] },
      { model: 'emu-model', deployment: 'healthy', status: 200, error: undefined, port: emulator.port },
    );

    // The upstream saw each attempt's own span as the parent, in the client's trace, with its tracestate.
    for (const [index, span] of own.entries()) {
      assert.equal(upstream[index]!.headers.traceparent, `00-${CLIENT_TRACE}-${span.spanId}-01`);
      assert.equal(upstream[index]!.headers.tracestate, 'vendor=abc');
    }
    const fresh = servers.find((span) => span.traceId !== CLIENT_TRACE)!;
    assert.equal(fresh.parentSpanId ?? '', '', 'without a traceparent the request span is a root');
    const freshAttempt = attempts.find((span) => span.traceId === fresh.traceId)!;
    assert.equal(upstream[2]!.headers.traceparent, `00-${fresh.traceId}-${freshAttempt.spanId}-01`);

    const resource = JSON.stringify(receiver.resources[0]);
    assert.match(resource, /"service\.name".*"stellwerk-test"/);
    const exported = receiver.bodies.join('\n');
    assert.ok(!exported.includes(PROMPT), 'no prompt in any span');
    assert.ok(!exported.includes(MASTER), 'no key in any span');
    assert.ok(!exported.includes(answer.choices[0]!.message.content ?? '\u0000'), 'no completion in any span');
  });
});

describe('tracing off', () => {
  test('no traceparent is added upstream; a client’s own is passed on unchanged', async () => {
    const running = await startGateway(config(emulator, ''), {});
    try {
      const before = emulator.requests.length;
      await client(running).chat.completions.create({ model: 'backup', messages: [{ role: 'user', content: 'hi' }] });
      const given = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
      await client(running, { traceparent: given }).chat.completions.create({ model: 'backup', messages: [{ role: 'user', content: 'hi' }] });
      const [plain, traced] = emulator.requests.slice(before);
      assert.equal(plain!.headers.traceparent, undefined);
      assert.equal(traced!.headers.traceparent, given);
    } finally {
      await running.close();
    }
  });

  test('settings: off without an endpoint; the standard variable turns it on; /v1/traces is appended once', () => {
    assert.equal(tracingSettings({ sample_ratio: 1 }, {}), null);
    assert.equal(tracingSettings({ sample_ratio: 1 }, { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), null);
    assert.deepEqual(tracingSettings({ sample_ratio: 0.25 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'edge' }), {
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'edge',
      sampleRatio: 0.25,
    });
    assert.equal(tracingSettings({ otlp_endpoint: 'https://otel.example/base/', sample_ratio: 1 }, {})!.tracesUrl, 'https://otel.example/base/v1/traces');
    assert.equal(tracingSettings({ otlp_endpoint: 'https://otel.example/v1/traces', sample_ratio: 1 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318' })!.tracesUrl, 'https://otel.example/v1/traces');
    assert.equal(tracingSettings({ sample_ratio: 1 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })!.serviceName, 'stellwerk');
  });
});
