import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, WRITER_WAIT_MS, type RunningGateway } from '../helpers/gateway.js';
import type { SqlGovernanceStore } from '../../src/store/sql-store.js';

let running: RunningGateway;

before(async () => {
  running = await startGateway(`
models:
  - name: slow
    deployments:
      - { provider: simulator, name: slow-sim, model: llama-3.1-8b, ttft_ms: 0, tokens_per_second: 20, output_tokens: 400,
          hardware: { gpu: h100-sxm, count: 1 }, grid: FR, price: { input_per_1m: 1, output_per_1m: 2 } }
`);
});

after(() => running.close());

test('a stream the client leaves still gets usage, counted and flagged estimated, with cost and energy', async () => {
  const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'Tell me a long story.' }], stream: true });
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) chunks++;
    if (chunks === 3) break; // leaving the loop aborts the request
  }
  const store = running.gateway.runtime.governance!.store as unknown as SqlGovernanceStore;
  const deadline = Date.now() + 10_000;
  let row;
  while ((row = (await store.listRequests()).find((candidate) => candidate.alias === 'slow')) === undefined) {
    assert.ok(Date.now() < deadline, 'the aborted request was stored');
    await running.gateway.runtime.governance!.writer.flush(WRITER_WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(row.usage_estimated, true);
  assert.ok(row.completion_tokens >= 1 && row.completion_tokens < 400, `${row.completion_tokens} tokens of what was streamed, not the whole answer`);
  assert.ok(row.prompt_tokens > 0);
  assert.equal(row.cost_nanos, Math.round((row.prompt_tokens * 1 + row.completion_tokens * 2) * 1000));
  assert.ok((row.energy_wh ?? 0) > 0 && (row.co2e_ug ?? 0) > 0);
});
