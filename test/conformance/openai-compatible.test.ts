import { startEmulator } from '../emulators/openai-compatible.js';
import { providerConformance } from './provider-conformance.js';

providerConformance({
  provider: 'openai-compatible',
  async start() {
    const emulator = await startEmulator({ apiKey: 'sk-conformance-upstream' });
    return {
      deployment: (model) =>
        `      - provider: openai-compatible\n        base_url: ${emulator.url}\n        model: ${model}\n        api_key: sk-conformance-upstream`,
      close: () => emulator.close(),
    };
  },
  expectedText: (subject) => `Echo[0]: ${subject}`,
  expectedArguments: (subject, toolName) => ({ tool: toolName, query: subject }),
  badRequestMessage: /Invalid 'max_tokens'/,
});
