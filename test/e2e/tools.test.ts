import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { chatAnswer, toolArguments, toolCallId } from '../emulators/openai-answers.js';
import { collect, startStack, UPSTREAM_SECRET, type Stack } from './stack.js';

/** Tool calls through the gateway: ids, names and arguments must arrive exactly, whole and streamed. */

let stack: Stack;

before(async () => {
  stack = await startStack(
    (url) => `
models:
  - name: agent
    deployments:
      - provider: openai-compatible
        base_url: ${url}
        model: emu-model
        api_key: ${UPSTREAM_SECRET}
`,
  );
});
after(() => stack.close());

const SUBJECT = 'Weather and time in Zürich, please — "quoted" and {braced}';
const messages = [{ role: 'user' as const, content: SUBJECT }];

function tool(name: string): ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name,
      description: `The ${name} tool.`,
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  };
}

function expectedCall(name: string, index: number) {
  return { id: toolCallId(SUBJECT, name, index), type: 'function', function: { name, arguments: toolArguments(SUBJECT, name) } };
}

interface Reassembled {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** Rebuilds tool calls from stream deltas the way a client must: id, type and name once, arguments appended. */
function reassemble(chunks: readonly ChatCompletionChunk[], choiceIndex = 0): Reassembled[] {
  const calls: Reassembled[] = [];
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      if (choice.index !== choiceIndex) continue;
      for (const delta of choice.delta.tool_calls ?? []) {
        const existing = calls[delta.index];
        if (existing === undefined) {
          assert.ok(delta.id !== undefined && delta.function?.name !== undefined, 'the first delta of a call names it');
          assert.equal(delta.type, 'function');
          calls[delta.index] = { id: delta.id, type: delta.type, function: { name: delta.function.name, arguments: delta.function.arguments ?? '' } };
        } else {
          assert.equal(delta.id, undefined, 'later deltas carry no id');
          existing.function.arguments += delta.function?.arguments ?? '';
        }
      }
    }
  }
  return calls;
}

describe('tool calls', () => {
  test('non-streamed: one call', async () => {
    const answer = await stack.client.chat.completions.create({ model: 'agent', messages, tools: [tool('get_weather')] });
    const choice = answer.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.deepEqual(choice.message.tool_calls, [expectedCall('get_weather', 0)]);
    assert.deepEqual(JSON.parse((choice.message.tool_calls![0] as Reassembled).function.arguments), { tool: 'get_weather', query: SUBJECT });
  });

  test('streamed: id, name and arguments reassembled exactly; the first delta has empty arguments', async () => {
    const chunks = await collect(await stack.client.chat.completions.create({ model: 'agent', messages, tools: [tool('get_weather')], stream: true }));
    const first = chunks.find((chunk) => chunk.choices[0]?.delta.tool_calls !== undefined)!;
    assert.equal(first.choices[0]!.delta.tool_calls![0]!.function!.arguments, '');
    const fragments = chunks.filter((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments);
    assert.ok(fragments.length > 1, 'the arguments come in several fragments');
    assert.deepEqual(reassemble(chunks), [expectedCall('get_weather', 0)]);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  });

  test('parallel calls, non-streamed and streamed', async () => {
    const tools = [tool('get_weather'), tool('get_time')];
    const expected = [expectedCall('get_weather', 0), expectedCall('get_time', 1)];
    const whole = await stack.client.chat.completions.create({ model: 'agent', messages, tools });
    assert.deepEqual(whole.choices[0]!.message.tool_calls, expected);
    const chunks = await collect(await stack.client.chat.completions.create({ model: 'agent', messages, tools, stream: true }));
    assert.deepEqual(reassemble(chunks), expected);
  });

  test('parallel calls in n choices, streamed', async () => {
    const tools = [tool('get_weather'), tool('get_time')];
    const chunks = await collect(await stack.client.chat.completions.create({ model: 'agent', messages, tools, n: 2, stream: true }));
    for (const index of [0, 1]) assert.deepEqual(reassemble(chunks, index), [expectedCall('get_weather', 0), expectedCall('get_time', 1)]);
  });

  test('the SDK stream helper accumulates the same message as the whole answer', async () => {
    const tools = [tool('get_weather'), tool('get_time')];
    const whole = await stack.client.chat.completions.create({ model: 'agent', messages, tools });
    const final = await stack.client.chat.completions.stream({ model: 'agent', messages, tools }).finalChatCompletion();
    assert.deepEqual(
      final.choices[0]!.message.tool_calls!.map((call) => {
        const { id, type, function: fn } = call as Reassembled;
        return { id, type, function: { name: fn.name, arguments: fn.arguments } };
      }),
      whole.choices[0]!.message.tool_calls,
    );
  });

  test('the agent loop: a tool result gets a text answer about it', async () => {
    const call = expectedCall('get_weather', 0);
    const loop = [
      ...messages,
      { role: 'assistant' as const, content: null, tool_calls: [call as { id: string; type: 'function'; function: { name: string; arguments: string } }] },
      { role: 'tool' as const, tool_call_id: call.id, content: '21 °C, sunny' },
    ];
    const answer = await stack.client.chat.completions.create({ model: 'agent', messages: loop, tools: [tool('get_weather')] });
    assert.equal(answer.choices[0]!.message.content, chatAnswer('21 °C, sunny'));
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    const upstream = stack.emulator.requests.at(-1)!;
    assert.deepEqual((upstream.body as { messages: unknown }).messages, loop);
  });

  test('tool_choice "none" gets text', async () => {
    const chunks = await collect(
      await stack.client.chat.completions.create({ model: 'agent', messages, tools: [tool('get_weather')], tool_choice: 'none', stream: true }),
    );
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), chatAnswer(SUBJECT));
    assert.deepEqual(reassemble(chunks), []);
  });
});
