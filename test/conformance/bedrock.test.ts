import { startBedrockEmulator } from '../emulators/bedrock.js';
import { echoText, echoToolInput } from '../emulators/bedrock-answers.js';
import { providerConformance } from './provider-conformance.js';

const CREDENTIALS = { accessKeyId: 'AKIACONFORMANCE00001', secretAccessKey: 'conformance/secret+key/0123456789', sessionToken: 'conformance-session-token' };

providerConformance({
  provider: 'bedrock',
  async start() {
    const emulator = await startBedrockEmulator({ ...CREDENTIALS, region: 'eu-central-1' });
    return {
      deployment: (model) =>
        [
          '      - provider: bedrock',
          `        model: ${model}`,
          '        region: eu-central-1',
          `        endpoint: ${emulator.url}`,
          `        access_key_id: ${CREDENTIALS.accessKeyId}`,
          `        secret_access_key: ${CREDENTIALS.secretAccessKey}`,
          `        session_token: ${CREDENTIALS.sessionToken}`,
        ].join('\n'),
      close: () => emulator.close(),
    };
  },
  expectedText: echoText,
  expectedArguments: echoToolInput,
  badRequestMessage: /Malformed input request: #\/max_tokens/,
});
