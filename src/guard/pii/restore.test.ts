import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatRequest } from '../../core/types.js';
import type { StreamEvent } from '../../providers/types.js';
import { guardBody } from './guard.js';
import type { PrivacyPolicy } from './policy.js';
import { Pseudonyms, restoreText, StreamRestorer } from './pseudonyms.js';
import { restoreResult } from './restore.js';

const PSEUDONYMIZE: PrivacyPolicy = { mode: 'pseudonymize', types: undefined, thresholds: {}, nlp: false };

function conversation(): ChatRequest {
  return {
    model: 'm',
    messages: [
      { role: 'system', content: 'Du hilfst Kunden der Bank.' },
      { role: 'user', content: 'Ich bin Katharina Wolff, IBAN DE89 3704 0044 0532 0130 00, Mail k.wolff@example.de.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"email":"k.wolff@example.de"}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'Kunde Katharina Wolff, Tel. +49 30 12345678' },
      { role: 'user', content: [{ type: 'text', text: 'Bitte schreib Katharina Wolff eine Mail.' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
    ],
  };
}

/** A simulated model: repeats and rephrases the placeholders it was given, and invents or mangles some. */
function modelAnswer(request: ChatRequest): string {
  const user = request.messages[1]!.content as string;
  const person = /<PERSON_\d+>/.exec(user)![0];
  const iban = /<IBAN_\d+>/.exec(user)![0];
  const email = /<EMAIL_\d+>/.exec(user)![0];
  return `Hallo ${person}! Ihre IBAN ${iban} ist notiert; ${person} erhält Post an ${email}. <PERSON_99> und PERSON_1 und <PERSON_1 bleiben.`;
}

const ORIGINAL_ANSWER =
  'Hallo Katharina Wolff! Ihre IBAN DE89 3704 0044 0532 0130 00 ist notiert; Katharina Wolff erhält Post an k.wolff@example.de. <PERSON_99> und PERSON_1 und <PERSON_1 bleiben.';

async function* oneCharacterChunks(text: string, args: string): AsyncGenerator<StreamEvent<unknown>> {
  const base = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm' };
  for (const char of text) yield { value: { ...base, choices: [{ index: 0, delta: { content: char }, finish_reason: null }] }, raw: null };
  yield { value: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'x', type: 'function', function: { name: 'send', arguments: '' } }] }, finish_reason: null }] }, raw: null };
  for (const char of args) yield { value: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: char } }] }, finish_reason: null }] }, raw: null };
  yield { value: { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, raw: null };
}

describe('pseudonymize → model → restore', () => {
  test('every role and text part is pseudonymized, the same value with the same placeholder across messages', () => {
    const request = conversation();
    const report = guardBody(request, PSEUDONYMIZE);
    const sent = JSON.stringify(request);
    for (const secret of ['Katharina', 'Wolff', 'DE89', 'k.wolff@example.de', '12345678']) assert.ok(!sent.includes(secret), `${secret} in ${sent}`);
    const person = /<PERSON_\d+>/.exec(request.messages[1]!.content as string)![0];
    assert.ok((request.messages[3]!.content as string).includes(person));
    assert.ok(JSON.stringify(request.messages[4]!.content).includes(person));
    assert.ok(request.messages[2]!.tool_calls![0]!.function.arguments.includes('<EMAIL_'));
    assert.deepEqual(report.counts, { person: 3, iban: 1, email: 2, phone: 1 });
  });

  test('a stream in one-character chunks, text and tool arguments, is restored exactly', async () => {
    const request = conversation();
    const { pseudonyms } = guardBody(request, PSEUDONYMIZE);
    const answer = modelAnswer(request);
    const args = JSON.stringify({ to: /<EMAIL_\d+>/.exec(answer)![0], name: /<PERSON_\d+>/.exec(answer)![0] });
    const restored = restoreResult({ kind: 'stream', events: oneCharacterChunks(answer, args) }, pseudonyms!);
    assert.equal(restored.kind, 'stream');
    let text = '';
    let toolArgs = '';
    let events = 0;
    for await (const event of (restored as { events: AsyncIterable<StreamEvent<unknown>> }).events) {
      events++;
      const choice = (event.value as { choices: { delta: { content?: string; tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices[0]!;
      text += choice.delta.content ?? '';
      toolArgs += choice.delta.tool_calls?.[0]?.function?.arguments ?? '';
    }
    assert.equal(text, ORIGINAL_ANSWER);
    assert.deepEqual(JSON.parse(toolArgs), { to: 'k.wolff@example.de', name: 'Katharina Wolff' });
    assert.equal(events, answer.length + args.length + 2, 'no chunk is swallowed: held-back text comes out with a later one');
  });

  test('a whole answer is restored, tool arguments stay valid JSON', () => {
    const pseudonyms = new Pseudonyms();
    const placeholder = pseudonyms.placeholderFor('person', 'Jean "JJ" O\'Neil');
    const value = { choices: [{ index: 0, message: { role: 'assistant', content: `Hi ${placeholder}`, tool_calls: [{ function: { arguments: `{"n":"${placeholder}"}` } }] } }] };
    const restored = restoreResult({ kind: 'json', parsed: { value, raw: '{}' } }, pseudonyms);
    assert.equal(restored.kind === 'json' && restored.parsed.raw, null);
    assert.equal(value.choices[0]!.message.content, 'Hi Jean "JJ" O\'Neil');
    assert.deepEqual(JSON.parse(value.choices[0]!.message.tool_calls[0]!.function.arguments), { n: 'Jean "JJ" O\'Neil' });
  });
});

describe('the stream restorer holds back only what could still become a placeholder', () => {
  test('ordinary text and a "<" that cannot start a placeholder pass at once', () => {
    const pseudonyms = new Pseudonyms();
    pseudonyms.placeholderFor('person', 'Anna');
    const restorer = new StreamRestorer(pseudonyms, false);
    assert.equal(restorer.push('a < b and <b>bold'), 'a < b and <b>bold');
    assert.equal(restorer.push(' <PER'), ' ');
    assert.equal(restorer.push('SON_'), '');
    assert.equal(restorer.push('1> ok'), 'Anna ok');
    assert.equal(restorer.push('<PERSON_2'), '<PERSON_2', 'a placeholder not handed out is never held or mapped');
  });

  test('placeholders the client wrote itself are never handed out', () => {
    const pseudonyms = new Pseudonyms();
    pseudonyms.reserveLiterals('Template: <PERSON_1> and <EMAIL_1>');
    assert.equal(pseudonyms.placeholderFor('person', 'Anna'), '<PERSON_2>');
    assert.equal(restoreText('<PERSON_1> <PERSON_2>', pseudonyms), '<PERSON_1> Anna');
  });
});

describe('other modes', () => {
  test('redact replaces with the type; detect counts and changes nothing', () => {
    const request = conversation();
    guardBody(request, { ...PSEUDONYMIZE, mode: 'redact' });
    assert.equal(request.messages[1]!.content, 'Ich bin [PERSON], IBAN [IBAN], Mail [EMAIL].');
    const untouched = conversation();
    const report = guardBody(untouched, { ...PSEUDONYMIZE, mode: 'detect' });
    assert.deepEqual(untouched, conversation());
    assert.equal(report.counts.iban, 1);
    assert.equal(report.pseudonyms, null);
  });

  test('types limit what is looked for', () => {
    const request = conversation();
    const report = guardBody(request, { ...PSEUDONYMIZE, mode: 'redact', types: ['iban'] });
    assert.deepEqual(report.counts, { iban: 1 });
    assert.ok((request.messages[1]!.content as string).includes('Katharina Wolff'));
  });
});
