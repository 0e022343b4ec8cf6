import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, NotFoundError } from 'openai';
import type { Completion } from 'openai/resources/completions';
import { completionText, embeddingVector } from '../emulators/openai-answers.js';
import { collect, lastBody, assertOpenAiError, startStack, UPSTREAM_SECRET, type Stack } from './stack.js';

/** Embeddings, the model list and legacy completions through the gateway, with the official SDK. */

let stack: Stack;

before(async () => {
  stack = await startStack(
    (url) => `
models:
  - name: embed
    deployments:
      - provider: openai-compatible
        name: emu-embed
        base_url: ${url}
        model: emu-embed
        api_key: ${UPSTREAM_SECRET}
  - name: complete
    deployments:
      - provider: openai-compatible
        base_url: ${url}
        model: emu-model
        api_key: ${UPSTREAM_SECRET}
  - name: team/chat-v1
    deployments:
      - provider: simulator
        ttft_ms: 0
        tokens_per_second: 0
`,
  );
});
after(() => stack.close());

function lastUpstreamBody(): Record<string, unknown> {
  const upstream = stack.emulator.requests.at(-1)!;
  assert.equal(upstream.problem, null);
  return upstream.body as Record<string, unknown>;
}

describe('embeddings', () => {
  test('float: the vectors the upstream computed', async () => {
    const { data: answer, response } = await stack.client.embeddings
      .create({ model: 'embed', input: ['first input', 'zweite Eingabe ✓'], encoding_format: 'float' })
      .withResponse();
    assert.equal(response.headers.get('x-stellwerk-deployment'), 'emu-embed');
    assert.deepEqual(
      answer.data.map((item) => [item.index, item.embedding]),
      [
        [0, embeddingVector('first input', 8)],
        [1, embeddingVector('zweite Eingabe ✓', 8)],
      ],
    );
    assert.equal(answer.model, 'emu-embed');
    assert.deepEqual(lastUpstreamBody(), { model: 'emu-embed', input: ['first input', 'zweite Eingabe ✓'], encoding_format: 'float' });
  });

  test('SDK default (base64 on the wire): decoded to the same vectors', async () => {
    const answer = await stack.client.embeddings.create({ model: 'embed', input: 'first input', dimensions: 12 });
    assert.deepEqual(answer.data[0]!.embedding, embeddingVector('first input', 12));
    assert.deepEqual(lastUpstreamBody(), { model: 'emu-embed', input: 'first input', dimensions: 12, encoding_format: 'base64' });
  });

  test('token-array input passes through', async () => {
    const answer = await stack.client.embeddings.create({ model: 'embed', input: [[1, 2, 3]], encoding_format: 'float' });
    assert.deepEqual(answer.data[0]!.embedding, embeddingVector('[1,2,3]', 8));
    assert.deepEqual(lastUpstreamBody().input, [[1, 2, 3]]);
  });

  test('missing input is refused by the gateway, naming the param', async () => {
    await assert.rejects(stack.client.embeddings.create({ model: 'embed' } as never), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'input');
      return true;
    });
    assertOpenAiError(await lastBody(stack.captured));
  });
});

describe('models', () => {
  test('GET /v1/models lists the aliases, in config order', async () => {
    const models = await stack.client.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['embed', 'complete', 'team/chat-v1'],
    );
    for (const model of models.data) assert.equal(model.object, 'model');
  });

  test('GET /v1/models/{id} finds an alias, also one with a slash', async () => {
    assert.equal((await stack.client.models.retrieve('complete')).id, 'complete');
    assert.equal((await stack.client.models.retrieve('team/chat-v1')).id, 'team/chat-v1');
  });

  test('an unknown model is a 404', async () => {
    await assert.rejects(stack.client.models.retrieve('emu-model'), NotFoundError);
    assertOpenAiError(await lastBody(stack.captured));
  });
});

describe('legacy completions', () => {
  const prompt = 'The signal box at Köln Hbf';

  test('non-streamed: what the upstream produced', async () => {
    const answer = await stack.client.completions.create({ model: 'complete', prompt, max_tokens: 20, echo: false, suffix: null });
    assert.deepEqual(lastUpstreamBody(), { model: 'emu-model', prompt, max_tokens: 20, echo: false, suffix: null });
    const original = await stack.direct.completions.create({ model: 'emu-model', prompt, max_tokens: 20, echo: false, suffix: null });
    assert.deepEqual(answer, original);
    assert.equal(answer.choices[0]!.text, completionText(prompt));
  });

  test('streamed, without and with include_usage', async () => {
    const text = (chunks: readonly Completion[]) => chunks.map((chunk) => chunk.choices[0]?.text ?? '').join('');
    const plain = await collect(await stack.client.completions.create({ model: 'complete', prompt, stream: true }));
    assert.equal(text(plain), completionText(prompt));
    for (const chunk of plain) assert.ok(!('usage' in chunk), 'no usage field');
    assert.deepEqual(lastUpstreamBody().stream_options, { include_usage: true });
    assert.deepEqual(plain, await collect(await stack.direct.completions.create({ model: 'emu-model', prompt, stream: true })));

    const params = { prompt, stream: true, stream_options: { include_usage: true } } as const;
    const counted = await collect(await stack.client.completions.create({ model: 'complete', ...params }));
    assert.deepEqual(counted, await collect(await stack.direct.completions.create({ model: 'emu-model', ...params })));
    assert.deepEqual(counted.at(-1)!.choices, []);
    assert.ok((counted.at(-1)!.usage?.total_tokens ?? 0) > 0);
  });

  test('several prompts', async () => {
    const answer = await stack.client.completions.create({ model: 'complete', prompt: ['one', 'two'] });
    assert.deepEqual(
      answer.choices.map((choice) => choice.text),
      [completionText('one'), completionText('two')],
    );
  });

  // The simulator adapter implements completions() but not completionsStream(), and the
  // completions operation requires both, so even a non-streamed request gets 400 unsupported_endpoint.
  test('non-streamed completions are served by the simulator, which implements them', async () => {
    const answer = await stack.client.completions.create({ model: 'team/chat-v1', prompt, max_tokens: 5 });
    assert.equal(answer.usage?.completion_tokens, 5);
    assert.ok(answer.choices[0]!.text.length > 0);
  });
});
