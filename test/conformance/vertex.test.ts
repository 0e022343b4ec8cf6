import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerText, toolInput } from '../emulators/anthropic-answers.js';
import { chatAnswer, toolArguments } from '../emulators/gemini-answers.js';
import { BAD_REQUEST_MESSAGE, startGeminiEmulator, type GeminiEmulator } from '../emulators/gemini.js';
import { providerConformance, type ConformanceUpstream } from './provider-conformance.js';

/**
 * Vertex AI through the gateway, both publishers, against the Gemini/Vertex emulator: the gateway
 * signs a JWT with a generated service account key, the emulator's token endpoint verifies it and
 * issues the access token that every model call must carry.
 */

const CLIENT_EMAIL = 'stellwerk@emu-project.iam.gserviceaccount.com';

async function startVertex(publisher: 'google' | 'anthropic'): Promise<ConformanceUpstream> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const emulator: GeminiEmulator = await startGeminiEmulator({ serviceAccount: { clientEmail: CLIENT_EMAIL, publicKey } });
  const dir = mkdtempSync(join(tmpdir(), 'stellwerk-vertex-'));
  const file = join(dir, 'service-account.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'emu-project',
      private_key_id: 'conformance',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: CLIENT_EMAIL,
      token_uri: emulator.tokenUri,
    }),
  );
  return {
    deployment: (model) =>
      [
        '      - provider: vertex',
        `        base_url: ${emulator.url}`,
        '        location: europe-west4',
        `        publisher: ${publisher}`,
        `        model: ${model}`,
        `        credentials_file: ${file}`,
      ].join('\n'),
    async close() {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

providerConformance({
  provider: 'vertex (publisher google)',
  start: () => startVertex('google'),
  expectedText: (subject) => chatAnswer(subject),
  expectedArguments: toolArguments,
  badRequestMessage: new RegExp(BAD_REQUEST_MESSAGE.replace('.', '\\.')),
});

providerConformance({
  provider: 'vertex (publisher anthropic)',
  start: () => startVertex('anthropic'),
  expectedText: answerText,
  expectedArguments: toolInput,
  badRequestMessage: /prompt is too long/,
});
