import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';

/**
 * The conformance suite every provider runs against its emulator, through the gateway, with the
 * official `openai` SDK as the client. A provider's test file calls `providerConformance(subject)`.
 *
 * What an emulator must do for it (by the upstream model id it is asked for):
 * - `echo`: answers with text `subject.expectedText(lastUserText)`, finish "stop", with usage; a
 *   streamed answer comes in several pieces. With tools offered (and tool_choice not "none"), and
 *   the last message not a tool result, it calls the first tool with arguments
 *   `subject.expectedArguments(lastUserText, toolName)`. It must refuse (400) a request that is not
 *   in the provider's own correct format, so that a mistranslation fails the suite.
 * - `fail-400`: the provider's own 400 error, whose message matches `subject.badRequestMessage`;
 * - `fail-429`: the provider's 429 with `retry-after: 7`;
 * - `fail-401`: the provider's 401; `fail-500`: the provider's 500.
 */
export interface ConformanceSubject {
  readonly provider: string;
  /** Starts the emulator; `deployment(model)` gives the YAML of one deployment (a list item, 6-space indent). */
  start(): Promise<ConformanceUpstream>;
  expectedText(subject: string): string;
  expectedArguments(subject: string, toolName: string): Record<string, unknown>;
  readonly badRequestMessage: RegExp;
  /** Reasoned skips: what the provider cannot do at all, said once here. */
  readonly skip?: Partial<Record<'images' | 'streamUsage', string>>;
}

export interface ConformanceUpstream {
  deployment(model: string): string;
  close(): Promise<void>;
}

const SUBJECT = 'Wer darf passieren? Zug 🚂 nach Köln';
const FAULTS = ['fail-400', 'fail-429', 'fail-401', 'fail-500'] as const;

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};

export function providerConformance(subject: ConformanceSubject): void {
  describe(`provider conformance: ${subject.provider}`, () => {
    let upstream: ConformanceUpstream;
    let gateway: RunningGateway;
    let client: OpenAI;

    before(async () => {
      upstream = await subject.start();
      const aliases = ['echo', ...FAULTS]
        .map((model) => `  - name: ${model}\n    deployments:\n${upstream.deployment(model)}\n`)
        .join('');
      gateway = await startGateway(`models:\n${aliases}`);
      client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'x', maxRetries: 0 });
    });
    after(async () => {
      await gateway?.close();
      await upstream?.close();
    });

    const ask: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a signal box.' },
      { role: 'user', content: SUBJECT },
    ];

    test('chat: the answer text, finish "stop" and usage', async () => {
      const answer = await client.chat.completions.create({ model: 'echo', messages: ask, max_tokens: 100 });
      assert.equal(answer.object, 'chat.completion');
      assert.equal(answer.choices[0]!.message.role, 'assistant');
      assert.equal(answer.choices[0]!.message.content, subject.expectedText(SUBJECT));
      assert.equal(answer.choices[0]!.finish_reason, 'stop');
      assert.ok(answer.usage!.prompt_tokens > 0 && answer.usage!.completion_tokens > 0);
      assert.equal(answer.usage!.total_tokens, answer.usage!.prompt_tokens + answer.usage!.completion_tokens);
    });

    test('stream: the same text in pieces, then finish and usage', async () => {
      const chunks: ChatCompletionChunk[] = [];
      const stream = await client.chat.completions.create({ model: 'echo', messages: ask, stream: true, stream_options: { include_usage: true } });
      for await (const chunk of stream) chunks.push(chunk);
      const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
      assert.equal(text, subject.expectedText(SUBJECT));
      assert.ok(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length > 1, 'more than one piece');
      assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
      assert.equal(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]!.finish_reason, 'stop');
      if (subject.skip?.streamUsage === undefined) {
        const usage = chunks.at(-1)!.usage;
        assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, 'usage chunk last');
      }
    });

    test('stream without include_usage: no usage reaches the client', async () => {
      const stream = await client.chat.completions.create({ model: 'echo', messages: ask, stream: true });
      for await (const chunk of stream) assert.equal(chunk.usage ?? null, null);
    });

    test('tools: a call of the offered function with its arguments, finish "tool_calls"', async () => {
      const answer = await client.chat.completions.create({ model: 'echo', messages: ask, tools: [WEATHER] });
      const call = answer.choices[0]!.message.tool_calls![0]!;
      assert.equal(answer.choices[0]!.finish_reason, 'tool_calls');
      assert.equal(call.type, 'function');
      assert.ok(call.id.length > 0);
      assert.equal(call.type === 'function' && call.function.name, 'get_weather');
      assert.deepEqual(call.type === 'function' && JSON.parse(call.function.arguments), subject.expectedArguments(SUBJECT, 'get_weather'));
    });

    test('tools streamed: id, name and arguments reassemble exactly', async () => {
      const stream = await client.chat.completions.create({ model: 'echo', messages: ask, tools: [WEATHER], stream: true });
      let id = '';
      let name = '';
      let args = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const part of chunk.choices[0]?.delta.tool_calls ?? []) {
          assert.equal(part.index, 0);
          id += part.id ?? '';
          name += part.function?.name ?? '';
          args += part.function?.arguments ?? '';
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.ok(id.length > 0);
      assert.equal(name, 'get_weather');
      assert.deepEqual(JSON.parse(args), subject.expectedArguments(SUBJECT, 'get_weather'));
      assert.equal(finish, 'tool_calls');
    });

    test('a tool round trip: assistant tool_calls and the tool result are accepted', async () => {
      const first = await client.chat.completions.create({ model: 'echo', messages: ask, tools: [WEATHER] });
      const call = first.choices[0]!.message.tool_calls![0]!;
      const answer = await client.chat.completions.create({
        model: 'echo',
        tools: [WEATHER],
        messages: [...ask, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"sky":"clear"}' }],
      });
      assert.equal(answer.choices[0]!.finish_reason, 'stop');
      assert.equal(typeof answer.choices[0]!.message.content, 'string');
    });

    test('images: a data-URL image part is accepted', { skip: subject.skip?.images }, async () => {
      const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
      const answer = await client.chat.completions.create({
        model: 'echo',
        messages: [{ role: 'user', content: [{ type: 'text', text: SUBJECT }, { type: 'image_url', image_url: { url: pixel } }] }],
      });
      assert.equal(answer.choices[0]!.finish_reason, 'stop');
    });

    test('errors: 400 passes through, 429 keeps retry-after, 401 and 500 become 502', async () => {
      const bad = await failure(() => client.chat.completions.create({ model: 'fail-400', messages: ask }));
      assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));
      assert.match(bad.message, subject.badRequestMessage);
      const limited = await failure(() => client.chat.completions.create({ model: 'fail-429', messages: ask }));
      assert.ok(limited instanceof OpenAI.RateLimitError, String(limited));
      assert.equal(limited.headers?.get('retry-after'), '7');
      for (const model of ['fail-401', 'fail-500']) {
        const error = await failure(() => client.chat.completions.create({ model, messages: ask }));
        assert.ok(error instanceof OpenAI.APIError && error.status === 502, `${model}: ${String(error)}`);
      }
    });
  });
}

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}
