import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupPrice, PRICE_TABLE } from './prices.js';
import { tokenCost, busyTimeCost } from './cost.js';
import { accountingProfile, co2eGrams, energyWh } from './profile.js';
import { parametricEnergy, lookupModelSize } from './energy.js';
import { GRID_INTENSITY } from './grid.js';
import { countTokens, countPromptTokens, encodingFor } from './tokens.js';
import { StreamTally } from './stream-tally.js';

const cents = (usd: number) => Math.round(usd * 100);

test('cost of known usages equals the table arithmetic to the cent, cached input included', () => {
  const mini = accountingProfile('openai', 'gpt-4o-mini-2024-07-18', {}).price!;
  assert.deepEqual(mini, { input_per_1m: 0.15, output_per_1m: 0.6, cached_input_per_1m: 0.075 });
  // 6M uncached at 0.15, 4M cached at 0.075, 2M out at 0.60 = 0.90 + 0.30 + 1.20 = 2.40 USD
  const usage = { prompt_tokens: 10_000_000, completion_tokens: 2_000_000, total_tokens: 12_000_000, prompt_tokens_details: { cached_tokens: 4_000_000 } };
  assert.equal(cents(tokenCost(mini, usage)), 240);
  const sonnet = accountingProfile('anthropic', 'claude-sonnet-4-20250514', {}).price!;
  // 800k at 3 + 200k cached at 0.30 + 100k out at 15 = 2.40 + 0.06 + 1.50 = 3.96 USD
  const cached = { prompt_tokens: 1_000_000, completion_tokens: 100_000, total_tokens: 1_100_000, prompt_tokens_details: { cached_tokens: 200_000 } };
  assert.equal(cents(tokenCost(sonnet, cached)), 396);
  // Without a cached price the cached tokens cost the input price.
  const mistral = accountingProfile('mistral', 'mistral-large-latest', {}).price!;
  assert.equal(cents(tokenCost(mistral, { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000, prompt_tokens_details: { cached_tokens: 500_000 } })), 800);
  // Small requests: exact to the nano-dollar.
  assert.equal(tokenCost(mini, { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 }), (1000 * 0.15 + 100 * 0.6) / 1e6);
});

test('the price table: every entry has a date and a source; lookup by provider and upstream id', () => {
  for (const [provider, models] of Object.entries(PRICE_TABLE)) {
    for (const [model, price] of Object.entries(models)) {
      assert.match(price.checked, /^\d{4}-\d{2}-\d{2}$/, `${provider}/${model}`);
      assert.ok(price.source.length > 0 && price.input >= 0 && price.output >= 0);
      if (price.cachedInput !== undefined) assert.ok(price.cachedInput <= price.input, `${provider}/${model}`);
    }
  }
  assert.equal(lookupPrice('openai', 'gpt-4o-2024-08-06')?.input, 2.5);
  assert.equal(lookupPrice('openai', 'gpt-4o-mini')?.input, 0.15);
  assert.equal(lookupPrice('azure', 'gpt-4.1-mini')?.output, 1.6);
  assert.equal(lookupPrice('bedrock', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0')?.cachedInput, 0.3);
  assert.equal(lookupPrice('vertex', 'publishers/google/models/gemini-2.5-flash')?.output, 2.5);
  assert.equal(lookupPrice('gemini', 'gemini-2.5-flash-lite-preview-06-17')?.input, 0.1);
  assert.equal(lookupPrice('openai', 'my-finetune'), null);
  assert.equal(lookupPrice('openai-compatible', 'gpt-4o'), null);
});

test('a deployment price overrides the table; own GPUs by the hour share their busy time', () => {
  const override = accountingProfile('openai', 'gpt-4o', { price: { input_per_1m: 1, output_per_1m: 2, cached_input_per_1m: 0.5 } });
  assert.equal(override.priceSource, 'config');
  assert.equal(override.price?.input_per_1m, 1);
  const own = accountingProfile('openai-compatible', 'llama-3.1-8b', { cost_per_hour: 3.6 });
  assert.equal(own.price, null);
  assert.equal(own.costPerHour, 3.6);
  // 3.60 USD/h is 0.001 USD/s; 2 s shared by 4 requests in flight = 0.0005 USD
  assert.equal(busyTimeCost(3.6, 2_000, 4), 0.0005);
  assert.equal(busyTimeCost(3.6, 2_000, 0), 0.002);
});

test('published-figure sanity: Llama-3.1-8B on one H100 within 2x of ML.ENERGY (0.12 J v3, 0.20 J v2 per output token at batch 64)', () => {
  const size = lookupModelSize('meta-llama/Llama-3.1-8B-Instruct')!;
  assert.equal(size.active, 8.03);
  const { outputJ, inputJ } = parametricEnergy(size, 'h100-sxm', 1, 64);
  for (const measured of [0.12, 0.2]) assert.ok(outputJ >= measured / 2 && outputJ <= measured * 2, `${outputJ} J vs ${measured} J`);
  assert.ok(inputJ < outputJ, 'prefill tokens are cheaper than decoded ones');
  // A bigger batch shares the weight reads: less per token.
  assert.ok(parametricEnergy(size, 'h100-sxm', 1, 128).outputJ < outputJ);
});

test('energy and carbon: the same H100 in France emits less than in Poland; cloud deployments are estimates', () => {
  const fr = accountingProfile('openai-compatible', 'llama-3.1-8b', { hardware: { gpu: 'h100-sxm', count: 1 }, grid: 'FR', pue: 1.2 }).energy!;
  const pl = accountingProfile('openai-compatible', 'llama-3.1-8b', { hardware: { gpu: 'h100-sxm', count: 1 }, grid: 'PL', pue: 1.2 }).energy!;
  assert.equal(fr.method, 'parametric');
  const wh = energyWh(fr, 1000, 500);
  assert.equal(wh, energyWh(pl, 1000, 500));
  assert.equal(co2eGrams(fr, wh), (wh / 1000) * GRID_INTENSITY.FR!.gPerKWh);
  assert.ok(co2eGrams(fr, wh) * 10 < co2eGrams(pl, wh));
  const cloud = accountingProfile('bedrock', 'meta.llama3-1-70b-instruct-v1:0', { region: 'eu-central-1' }).energy!;
  assert.equal(cloud.method, 'cloud-estimate');
  assert.equal(cloud.pue, 1.15);
  assert.equal(cloud.gPerKWh, GRID_INTENSITY.DE!.gPerKWh);
  assert.equal(cloud.gpus, 3);
  assert.equal(accountingProfile('openai-compatible', 'unknown-model', {}).energy, null);
  assert.equal(accountingProfile('openai-compatible', 'unknown-model', { hardware: { gpu: 'l4', count: 1 }, params_b: { active: 3 }, carbon_intensity: 100 }).energy?.gPerKWh, 100);
});

test('tokens: OpenAI-family models are counted with their encoding, others estimated at four characters a token', async () => {
  assert.equal(encodingFor('gpt-4o-mini'), 'o200k_base');
  assert.equal(encodingFor('gpt-4-turbo'), 'cl100k_base');
  assert.equal(encodingFor('llama-3.1-8b'), null);
  assert.equal(await countTokens('gpt-4o', 'Hello world'), 2);
  assert.equal(await countTokens('llama-3.1-8b', 'Hello world'), 3);
  const prompt = await countPromptTokens('gpt-4o', { messages: [{ role: 'user', content: 'Hello world' }] });
  assert.equal(prompt, 2 + 3 + 3);
});

test('the stream tally keeps the generated text of chat, completions and tool-call chunks', () => {
  const tally = new StreamTally();
  tally.observe({ choices: [{ delta: { role: 'assistant', content: '' } }] });
  tally.observe({ choices: [{ delta: { content: 'Hello' } }] });
  tally.observe({ choices: [{ delta: { tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }] } }] });
  tally.observe({ choices: [{ text: ' world' }] });
  tally.observe({ choices: [] });
  assert.equal(tally.text(), 'Hellof{"a":1} world');
  assert.equal(tally.chars, 19);
});

test('chunks noted for later are read only when the tally is, in order, and never more than 64 wait', () => {
  const tally = new StreamTally();
  let reads = 0;
  const later = (content: string) => ({
    get value() {
      reads++;
      return { choices: [{ delta: { content } }] };
    },
  });
  tally.observeLater(later('a'));
  tally.observe({ choices: [{ delta: { content: 'b' } }] });
  tally.observeLater(later('c'));
  assert.equal(reads, 1, 'an observed chunk reads the ones noted before it, to keep the order');
  assert.equal(tally.chars, 3);
  assert.equal(tally.text(), 'abc');
  assert.equal(reads, 2);
  const long = new StreamTally();
  for (let i = 0; i < 200; i++) long.observeLater(later('x'));
  assert.ok(reads - 2 >= 192, 'a long stream is read in batches as it goes');
  assert.equal(long.text(), 'x'.repeat(200));
  const broken = new StreamTally();
  broken.observeLater({
    get value(): unknown {
      throw new Error('not JSON');
    },
  });
  assert.equal(broken.text(), '');
});
