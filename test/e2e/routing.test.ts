import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startFaultUpstream, type FaultUpstream } from '../emulators/fault-upstream.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function upstreams(...names: string[]): Promise<FaultUpstream[]> {
  const started = await Promise.all(names.map((name) => startFaultUpstream(name)));
  for (const upstream of started) cleanups.push(() => upstream.close());
  return started;
}

async function gateway(yaml: string): Promise<RunningGateway> {
  const running = await startGateway(yaml, {});
  cleanups.push(() => running.close());
  return running;
}

function deployment(upstream: FaultUpstream, extra = ''): string {
  return `      - { provider: openai-compatible, name: ${upstream.name}, base_url: ${upstream.url}, model: m${extra ? `, ${extra}` : ''} }\n`;
}

const FAST_RETRY = 'resilience:\n  retry: { attempts: 3, initial_backoff_ms: 1, max_backoff_ms: 5 }\n';

function chat(running: RunningGateway, model: string, headers: Record<string, string> = {}, stream = false) {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
  });
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `${String(error)}: ${cause?.code ?? ''} ${cause?.message ?? String(cause)}`;
}

async function answerOf(response: Response): Promise<string> {
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

describe('resilience under failing deployments', () => {
  test('one returns 500s, one resets, one is healthy: 1000 concurrent requests all succeed, the breaker takes the failing ones out and brings them back', async () => {
    const [failing, resetting, healthy] = await upstreams('failing', 'resetting', 'healthy');
    failing!.mode = { kind: 'status', status: 500 };
    resetting!.mode = { kind: 'reset' };
    const running = await gateway(
      `${FAST_RETRY}  breaker: { failures: 3, min_requests: 100000, open_ms: 1000 }\nmodels:\n  - name: m\n    deployments:\n${deployment(failing!)}${deployment(resetting!)}${deployment(healthy!)}`,
    );
    const settled = await Promise.allSettled(Array.from({ length: 1000 }, () => chat(running, 'm')));
    // A request that got no answer at all says why (fetch's own message is only "fetch failed").
    const unanswered = settled.flatMap((result) => (result.status === 'rejected' ? [causeOf(result.reason)] : []));
    assert.deepEqual(unanswered, [], 'every request of the burst got an answer');
    const responses = settled.map((result) => (result as PromiseFulfilledResult<Response>).value);
    assert.deepEqual([...new Set(responses.map((response) => response.status))], [200]);
    for (const response of responses) assert.equal(await answerOf(response), 'answer from healthy');
    assert.equal(healthy!.count, 1000);

    // Opened (a probe may be due already if the burst took longer than open_ms on a busy machine).
    const states = running.gateway.runtime.routes.get('m')!.deployments.map((item) => item.state.breaker.stateAt(Date.now()));
    assert.notEqual(states[0], 'closed');
    assert.notEqual(states[1], 'closed');
    assert.equal(states[2], 'closed');
    const before = failing!.count + resetting!.count;
    const started = Date.now();
    for (let i = 0; i < 50; i++) assert.equal((await chat(running, 'm')).status, 200);
    // Each open circuit may send one probe per open_ms (1 s) that passes, and each probe fails again.
    const probesDue = 2 * (Math.ceil((Date.now() - started) / 1000) + 1);
    assert.ok(failing!.count + resetting!.count - before <= probesDue, 'open circuits get nothing but their probes');

    // They recover: once open_ms has passed a probe goes through, succeeds, and the circuit closes.
    failing!.mode = { kind: 'ok' };
    resetting!.mode = { kind: 'ok' };
    const failingAfter = failing!.count;
    const resettingAfter = resetting!.count;
    const deadline = Date.now() + 30_000;
    while ((failing!.count === failingAfter || resetting!.count === resettingAfter) && Date.now() < deadline) {
      assert.equal((await chat(running, 'm')).status, 200);
    }
    const recovered = running.gateway.runtime.routes.get('m')!.deployments.map((item) => item.state.breaker.stateAt(Date.now()));
    assert.deepEqual(recovered, ['closed', 'closed', 'closed']);
  });

  test('a 429 with retry-after moves traffic away for that long', async () => {
    const [limited, spare] = await upstreams('limited', 'spare');
    limited!.mode = { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
    const running = await gateway(`${FAST_RETRY}models:\n  - name: m\n    routing: { strategy: round-robin }\n    deployments:\n${deployment(limited!)}${deployment(spare!)}`);
    // The cooldown starts after this instant, so traffic may return no earlier than a second later.
    const limitedAt = Date.now();
    const first = await chat(running, 'm');
    assert.equal(first.status, 200, 'the 429 is retried on the other deployment');
    assert.equal(first.headers.get('x-stellwerk-attempts'), '2');
    assert.equal(limited!.count, 1);
    for (let i = 0; i < 20; i++) assert.equal(await answerOf(await chat(running, 'm')), 'answer from spare');
    assert.equal(limited!.count, 1, 'no traffic while cooling down');
    limited!.mode = { kind: 'ok' };
    while (limited!.count === 1 && Date.now() - limitedAt < 5_000) await chat(running, 'm');
    assert.ok(Date.now() - limitedAt >= 1_000, 'traffic came back only after the retry-after');
    assert.equal(limited!.count, 2);
  });

  test('every deployment failing: the last error, after the configured attempts', async () => {
    const [a, b] = await upstreams('down-a', 'down-b');
    a!.mode = { kind: 'status', status: 503 };
    b!.mode = { kind: 'status', status: 503 };
    const running = await gateway(`${FAST_RETRY}models:\n  - name: m\n    deployments:\n${deployment(a!)}${deployment(b!)}`);
    const response = await chat(running, 'm');
    assert.equal(response.status, 502);
    assert.equal(response.headers.get('x-stellwerk-attempts'), '3');
    assert.equal(a!.count + b!.count, 3);
    assert.ok(a!.count >= 1 && b!.count >= 1, 'a retry went to the other deployment');
  });

  test('a 400 from the upstream is not retried', async () => {
    const [refusing] = await upstreams('refusing');
    refusing!.mode = { kind: 'status', status: 400, message: 'bad temperature' };
    const running = await gateway(`${FAST_RETRY}models:\n  - name: m\n    deployments:\n${deployment(refusing!)}`);
    assert.equal((await chat(running, 'm')).status, 400);
    assert.equal(refusing!.count, 1);
  });
});

describe('strategies with real upstreams', () => {
  test('least-busy and latency prefer the faster of two deployments', async () => {
    for (const strategy of ['least-busy', 'latency']) {
      const [fast, slow] = await upstreams(`fast-${strategy}`, `slow-${strategy}`);
      // The gap is wide so that a busy machine's own delays cannot blur it.
      fast!.delayMs = 0;
      slow!.delayMs = 200;
      const running = await gateway(`models:\n  - name: m\n    routing: { strategy: ${strategy} }\n    deployments:\n${deployment(fast!)}${deployment(slow!)}`);
      const workers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 15; i++) assert.equal((await chat(running, 'm')).status, 200);
      });
      await Promise.all(workers);
      assert.ok(fast!.count > slow!.count * 2, `${strategy}: fast ${fast!.count}, slow ${slow!.count}`);
    }
  });

  test('priority spills to tier 1 exactly when tier 0 is saturated and comes back when it frees', async () => {
    const [gpu, cloud] = await upstreams('gpu', 'cloud');
    gpu!.delayMs = 150;
    const running = await gateway(
      `models:\n  - name: m\n    routing: { strategy: priority }\n    deployments:\n${deployment(gpu!, 'priority: 0, max_concurrency: 2')}${deployment(cloud!, 'priority: 1')}`,
    );
    const burst = await Promise.all(Array.from({ length: 5 }, () => chat(running, 'm')));
    const answers = await Promise.all(burst.map(answerOf));
    assert.equal(answers.filter((answer) => answer === 'answer from gpu').length, 2);
    assert.equal(answers.filter((answer) => answer === 'answer from cloud').length, 3);
    assert.equal(gpu!.maxInFlight, 2);
    assert.equal(await answerOf(await chat(running, 'm')), 'answer from gpu', 'tier 0 free again');
  });

  test('a request may pin a deployment or a region by header', async () => {
    const [eu, us] = await upstreams('eu', 'us');
    const running = await gateway(`models:\n  - name: m\n    deployments:\n${deployment(eu!, 'region: eu-central-1')}${deployment(us!, 'region: us-east-1')}`);
    for (let i = 0; i < 10; i++) assert.equal(await answerOf(await chat(running, 'm', { 'x-stellwerk-deployment': 'us' })), 'answer from us');
    for (let i = 0; i < 10; i++) assert.equal(await answerOf(await chat(running, 'm', { 'x-stellwerk-region': 'eu-central-1' })), 'answer from eu');
    const unknown = await chat(running, 'm', { 'x-stellwerk-deployment': 'nowhere' });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { error: { param: string } }).error.param, 'x-stellwerk-deployment');
    assert.equal((await chat(running, 'm', { 'x-stellwerk-region': 'ap-south-1' })).status, 400);
  });
});

describe('fallbacks', () => {
  test('when every deployment of an alias failed, the next fallback alias answers', async () => {
    const [primary, second, third] = await upstreams('primary', 'second', 'third');
    primary!.mode = { kind: 'status', status: 500 };
    second!.mode = { kind: 'reset' };
    const running = await gateway(
      `${FAST_RETRY}models:\n  - name: main\n    fallbacks: [backup, last]\n    deployments:\n${deployment(primary!)}  - name: backup\n    retry: { attempts: 1 }\n    deployments:\n${deployment(second!)}  - name: last\n    deployments:\n${deployment(third!)}`,
    );
    const response = await chat(running, 'main');
    assert.equal(response.status, 200);
    assert.equal(await answerOf(response), 'answer from third');
    assert.equal(response.headers.get('x-stellwerk-fallback'), 'last');
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'third');
    assert.equal(primary!.count, 3);
    assert.equal(second!.count, 1);
  });

  test('a context-window refusal goes to the context_window_fallbacks, and only there', async () => {
    const [small, large] = await upstreams('small', 'large');
    small!.mode = { kind: 'status', status: 400, message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens." };
    const running = await gateway(
      `${FAST_RETRY}models:\n  - name: short\n    context_window_fallbacks: [long]\n    deployments:\n${deployment(small!)}  - name: plain\n    deployments:\n      - { provider: openai-compatible, name: small-too, base_url: ${small!.url}, model: m }\n  - name: long\n    deployments:\n${deployment(large!)}`,
    );
    const response = await chat(running, 'short');
    assert.equal(await answerOf(response), 'answer from large');
    assert.equal(response.headers.get('x-stellwerk-fallback'), 'long');
    const without = await chat(running, 'plain');
    assert.equal(without.status, 400, 'without context_window_fallbacks the refusal reaches the client');
  });
});

describe('streams', () => {
  test('a failure before the first byte is retried on another deployment', async () => {
    const [broken, working] = await upstreams('broken', 'working');
    broken!.mode = { kind: 'reset-before-first-event' };
    const running = await gateway(`${FAST_RETRY}models:\n  - name: m\n    routing: { strategy: round-robin }\n    deployments:\n${deployment(broken!)}${deployment(working!)}`);
    const response = await chat(running, 'm', {}, true);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-stellwerk-attempts'), '2');
    assert.ok(text.includes('working') && text.endsWith('data: [DONE]\n\n'));
  });

  test('a failure after the first byte is not retried: a clean error event ends the stream', async () => {
    const [breaking, other] = await upstreams('breaking', 'other');
    breaking!.mode = { kind: 'reset-after-first-event' };
    const running = await gateway(`${FAST_RETRY}models:\n  - name: m\n    deployments:\n${deployment(breaking!)}${deployment(other!, 'weight: 0')}`);
    const response = await chat(running, 'm', {}, true);
    const text = await response.text();
    assert.equal(response.status, 200);
    const events = text.trim().split('\n\n');
    const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as { error: { code: string } };
    assert.equal(last.error.code, 'upstream_error');
    for (const event of events) assert.doesNotThrow(() => JSON.parse(event.slice('data: '.length)), 'every event is whole JSON');
    assert.equal(breaking!.count + other!.count, 1, 'no second upstream call');
  });
});

describe('timeouts', () => {
  test('connect: an upstream that never completes its TLS handshake is given up after connect_ms', async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const port = (silent.address() as AddressInfo).port;
    const running = await gateway(
      `resilience: { retry: { attempts: 1 } }\nmodels:\n  - name: m\n    deployments:\n      - { provider: openai-compatible, base_url: https://127.0.0.1:${port}/v1, model: m, timeouts: { connect_ms: 300 } }\n`,
    );
    const started = performance.now();
    const response = await chat(running, 'm');
    assert.equal(response.status, 504);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /Connecting to the upstream took longer than 300 ms/);
    assert.ok(performance.now() - started < 3_000);
  });
});

describe('metrics', () => {
  test('attempts, fallbacks and circuit states are exported', async () => {
    const [a] = await upstreams('metrics-a');
    const running = await gateway(`models:\n  - name: m\n    deployments:\n${deployment(a!)}`);
    await chat(running, 'm');
    const text = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(text, /stellwerk_upstream_attempts_total\{deployment="metrics-a",outcome="ok"\} 1/);
    assert.match(text, /stellwerk_deployment_circuit_state\{deployment="metrics-a",state="closed"\} 1/);
    assert.match(text, /stellwerk_deployment_in_flight\{deployment="metrics-a"\} 0/);
  });
});
