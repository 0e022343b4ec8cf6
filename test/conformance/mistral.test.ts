import { chatAnswer, toolArguments } from '../emulators/openai-answers.js';
import { startMistralEmulator } from '../emulators/mistral.js';
import { providerConformance } from './provider-conformance.js';

const KEY = 'mistral-conformance-key-7c1d';

providerConformance({
  provider: 'mistral',
  async start() {
    const emulator = await startMistralEmulator({ apiKey: KEY });
    return {
      deployment: (model) => `      - provider: mistral\n        base_url: ${emulator.url}\n        model: ${model}\n        api_key: ${KEY}`,
      close: () => emulator.close(),
    };
  },
  expectedText: (subject) => chatAnswer(subject),
  expectedArguments: (subject, toolName) => JSON.parse(toolArguments(subject, toolName)) as Record<string, unknown>,
  badRequestMessage: /must be a-z, A-Z, 0-9, with a length of 9/,
});
