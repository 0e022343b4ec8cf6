import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { findProfile } from '../../src/sim/profiles.js';
import { SimServer } from '../../src/sim/server.js';

const profile = findProfile('h100-llama3-8b');
const MODEL = profile.model.id;
let server: SimServer;
let client: OpenAI;
let baseURL: string;

before(async () => {
  server = new SimServer({ profile, loras: ['sql-adapter'] });
  baseURL = await server.listen(0);
  client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
});

after(() => server.close());

/** Prometheus text → "name{labels}" → value (comments skipped). */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(baseURL.replace(/\/v1$/, '/metrics'));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

const label = `{model_name="${MODEL}"}`;

/** Polls until `check` holds or the deadline passes. */
async function eventually(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const longSystem = 'You are the dispatcher of a railway signal box. '.repeat(60);

test('a whole answer has the requested length, usage, and a cached prefix on the second call', async () => {
  const before = await scrape();
  const ask = () =>
    client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: longSystem },
        { role: 'user', content: 'Which track does the 8:15 take?' },
      ],
      max_tokens: 12,
    });
  const first = await ask();
  const second = await ask();
  for (const answer of [first, second]) {
    assert.equal(answer.object, 'chat.completion');
    assert.equal(answer.choices[0]!.finish_reason, 'length');
    assert.equal(answer.usage!.completion_tokens, 12);
    assert.ok(answer.choices[0]!.message.content!.length > 12);
  }
  const prompt = first.usage!.prompt_tokens;
  assert.ok(prompt > 500 && prompt < 800, `prompt tokens ${prompt}`);
  assert.equal(first.usage!.prompt_tokens_details!.cached_tokens, 0);
  // Every full 16-token block but the one holding the last token comes from the cache.
  assert.equal(second.usage!.prompt_tokens_details!.cached_tokens, Math.floor((prompt - 1) / 16) * 16);

  const after = await scrape();
  const delta = (name: string) => after.get(name + label)! - (before.get(name + label) ?? 0);
  assert.equal(delta('vllm:prompt_tokens_total'), 2 * prompt);
  assert.equal(delta('vllm:generation_tokens_total'), 24);
  assert.equal(delta('vllm:prefix_cache_queries_total'), 2 * prompt);
  assert.equal(delta('vllm:prefix_cache_hits_total'), second.usage!.prompt_tokens_details!.cached_tokens);
  assert.equal(delta('vllm:time_to_first_token_seconds_count'), 2);
  assert.equal(delta('vllm:e2e_request_latency_seconds_count'), 2);
  assert.equal(after.get('vllm:num_requests_running' + label), 0);
  assert.equal(after.get('vllm:num_requests_waiting' + label), 0);
  assert.equal(after.get('vllm:kv_cache_usage_perc' + label), 0);
});

test('a streamed answer comes one token per engine step, then usage and [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'Report the state of track 3.' }],
    max_completion_tokens: 20,
    stream: true,
    stream_options: { include_usage: true },
  });
  const arrivals: number[] = [];
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice?.delta.content) {
      text += choice.delta.content;
      arrivals.push(performance.now());
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  assert.equal(arrivals.length, 20);
  assert.equal(finish, 'length');
  assert.equal(usage!.completion_tokens, 20);
  assert.ok(usage!.prompt_tokens > 5);
  assert.equal(usage!.prompt_tokens_details!.cached_tokens, 0);
  assert.ok(text.startsWith(' the signal'));
  // Paced by decode steps (about 8 ms each on this profile), not sent at once.
  const span = arrivals.at(-1)! - arrivals[0]!;
  assert.ok(span > 19 * 5, `20 tokens in ${span} ms`);
});

test('the model list names the base model and its adapters', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids, [MODEL, 'sql-adapter']);
});

test('a running adapter shows in vllm:lora_requests_info, and a client that leaves frees its place', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'sql-adapter', messages: [{ role: 'user', content: 'SELECT' }], max_tokens: 5_000, stream: true },
    { signal: controller.signal },
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  const samples = await scrape();
  const info = [...samples.keys()].find((key) => key.startsWith('vllm:lora_requests_info'));
  assert.equal(info, 'vllm:lora_requests_info{running_lora_adapters="sql-adapter",waiting_lora_adapters="",max_lora="4"}');
  assert.equal(samples.get('vllm:num_requests_running' + label), 1);
  assert.ok(samples.get('vllm:kv_cache_usage_perc' + label)! > 0);
  controller.abort();
  await eventually(() => server.engine.runningCount === 0, 'the aborted request to leave the batch');
  assert.equal(server.engine.kv.usedBlocks, 0);
});

test('bad requests get OpenAI-shaped errors with the right status', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.match(error.message, /model `nope` does not exist/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /messages must be a non-empty array/);
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 40_000 }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /exceed the model's context of 32768/);
    return true;
  });
  const notJson = await fetch(`${baseURL}/chat/completions`, { method: 'POST', body: '{"model":', headers: { 'content-type': 'application/json' } });
  assert.equal(notJson.status, 400);
  const body = (await notJson.json()) as { error: { message: string; type: string } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /not valid JSON/);
});
