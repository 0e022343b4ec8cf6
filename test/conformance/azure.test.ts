import { chatAnswer, toolArguments } from '../emulators/openai-answers.js';
import { CLIENT_ID, startAzureEmulator, TENANT } from '../emulators/azure.js';
import { providerConformance } from './provider-conformance.js';

/** Azure runs the suite twice: the deployment URL form with an api-key, and the v1 API with Entra ID. */

const KEY = 'azure-conformance-key-5f1e';

providerConformance({
  provider: 'azure (deployment URLs, api-key)',
  async start() {
    const emulator = await startAzureEmulator({ apiKey: KEY });
    return {
      deployment: (model) =>
        [
          '      - provider: azure',
          `        endpoint: ${emulator.url}`,
          `        deployment: ${model}`,
          '        api_version: 2024-10-21',
          `        api_key: ${KEY}`,
        ].join('\n'),
      close: () => emulator.close(),
    };
  },
  expectedText: (subject) => chatAnswer(subject),
  expectedArguments: (subject, toolName) => JSON.parse(toolArguments(subject, toolName)) as Record<string, unknown>,
  badRequestMessage: /maximum context length is 128000 tokens/,
});

providerConformance({
  provider: 'azure (v1 API, Entra ID)',
  async start() {
    const emulator = await startAzureEmulator({ apiKey: KEY, clientSecret: 'conformance-secret' });
    return {
      deployment: (model) =>
        [
          '      - provider: azure',
          `        endpoint: ${emulator.url}`,
          '        api_version: v1',
          `        model: ${model}`,
          `        entra: { tenant_id: ${TENANT}, client_id: ${CLIENT_ID}, client_secret: conformance-secret, authority_host: '${emulator.url}' }`,
        ].join('\n'),
      close: () => emulator.close(),
    };
  },
  expectedText: (subject) => chatAnswer(subject),
  expectedArguments: (subject, toolName) => JSON.parse(toolArguments(subject, toolName)) as Record<string, unknown>,
  badRequestMessage: /maximum context length is 128000 tokens/,
});
