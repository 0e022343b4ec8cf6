import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';

/** The PII guard through the gateway, judged by the openai SDK; the emulator echoes the last user message. */

const IBAN = 'DE89 3704 0044 0532 0130 00';
const PROMPT = `Mein Name ist Katharina Wolff, IBAN ${IBAN}, Mail k.wolff@example.de.`;

let emulator: Emulator;
let running: RunningGateway;
let client: OpenAI;

before(async () => {
  emulator = await startEmulator();
  const deployment = (name: string) => `    deployments: [{ provider: openai-compatible, name: ${name}, base_url: ${emulator.url}, model: emu-model }]\n`;
  running = await startGateway(
    `models:\n` +
      `  - name: redacted\n${deployment('d-redact')}    privacy: { mode: redact }\n` +
      `  - name: blocked\n${deployment('d-block')}    privacy: { mode: block, types: [iban, email] }\n` +
      `  - name: pseudo\n${deployment('d-pseudo')}    privacy: { mode: pseudonymize }\n` +
      `  - name: counted\n${deployment('d-detect')}    privacy: { mode: detect }\n`,
    {},
  );
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'none', maxRetries: 0 });
});
after(async () => {
  await running.close();
  await emulator.close();
});

/** The body the upstream received for the request whose text contains `marker`. */
async function sentUpstream(marker: string): Promise<string> {
  const request = await emulator.waitForRequest((item) => item.rawBody.includes(marker));
  return request.rawBody;
}

describe('PII guard through the gateway', () => {
  test('redact: the upstream sees [PERSON], [IBAN], [EMAIL], never the values', async () => {
    const answer = await client.chat.completions.create({ model: 'redacted', messages: [{ role: 'user', content: `${PROMPT} (redact)` }] });
    const upstream = await sentUpstream('(redact)');
    assert.ok(!upstream.includes('Wolff') && !upstream.includes('DE89') && !upstream.includes('example.de'), upstream);
    assert.equal(answer.choices[0]!.message.content, 'Echo[0]: Mein Name ist [PERSON], IBAN [IBAN], Mail [EMAIL]. (redact)');
  });

  test('block: 400 naming the types, not the values; nothing is sent', async () => {
    const before = emulator.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'blocked', messages: [{ role: 'user', content: PROMPT }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal((error.error as { code?: string }).code, 'pii_detected');
        assert.match(error.message, /iban, email|email, iban/);
        assert.ok(!error.message.includes('DE89') && !error.message.includes('Wolff'));
        return true;
      },
    );
    assert.equal(emulator.requests.length, before);
    const ok = await client.chat.completions.create({ model: 'blocked', messages: [{ role: 'user', content: 'Nur Katharina Wolff, keine Nummern.' }] });
    assert.ok(ok.choices[0]!.message.content!.includes('Katharina Wolff'), 'types not listed pass');
  });

  test('pseudonymize: placeholders upstream, originals restored in a whole answer', async () => {
    const answer = await client.chat.completions.create({ model: 'pseudo', messages: [{ role: 'user', content: `${PROMPT} (whole)` }] });
    const upstream = await sentUpstream('(whole)');
    assert.ok(!upstream.includes('Wolff') && !upstream.includes('DE89'), upstream);
    assert.match(upstream, /<PERSON_1>.*<IBAN_1>.*<EMAIL_1>/);
    assert.equal(answer.choices[0]!.message.content, `Echo[0]: ${PROMPT} (whole)`);
  });

  test('pseudonymize: restored in a stream', async () => {
    const stream = await client.chat.completions.create({ model: 'pseudo', stream: true, messages: [{ role: 'user', content: `${PROMPT} (stream)` }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, `Echo[0]: ${PROMPT} (stream)`);
    assert.ok(!(await sentUpstream('(stream)')).includes('Wolff'));
  });

  test('pseudonymize: restored in tool-call arguments, whole and streamed', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'send_mail', parameters: { type: 'object', properties: {} } } }];
    const content = `Schreib an Katharina Wolff (k.wolff@example.de) (tools)`;
    const whole = await client.chat.completions.create({ model: 'pseudo', tools, messages: [{ role: 'user', content }] });
    const call = whole.choices[0]!.message.tool_calls![0]! as { function: { arguments: string } };
    assert.deepEqual(JSON.parse(call.function.arguments), { tool: 'send_mail', query: content });
    const stream = await client.chat.completions.create({ model: 'pseudo', tools, stream: true, messages: [{ role: 'user', content }] });
    let args = '';
    for await (const chunk of stream) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
    assert.deepEqual(JSON.parse(args), { tool: 'send_mail', query: content });
    assert.ok(!(await sentUpstream('(tools)')).includes('Wolff'));
  });

  test('detect: forwarded unchanged; counts per type in the log line and the metric, never values', async () => {
    await client.chat.completions.create({ model: 'counted', messages: [{ role: 'user', content: `${PROMPT} (detect)` }] });
    assert.ok((await sentUpstream('(detect)')).includes('Katharina Wolff'));
    const line = running.logs.find((entry) => entry.alias === 'counted' && entry.msg === 'request');
    assert.deepEqual(line?.pii, { person: 1, iban: 1, email: 1 });
    assert.ok(!JSON.stringify(running.logs).includes('DE89'), 'no value in any log line');
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    assert.match(metrics, /stellwerk_pii_detections_total\{type="iban",mode="detect"\} 1/);
  });
});
