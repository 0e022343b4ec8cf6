import { chatAnswer, toolArguments } from '../emulators/gemini-answers.js';
import { BAD_REQUEST_MESSAGE, startGeminiEmulator } from '../emulators/gemini.js';
import { providerConformance } from './provider-conformance.js';

const KEY = 'AIzaSyConformanceUpstreamKey0123456789ab';

providerConformance({
  provider: 'gemini',
  async start() {
    const emulator = await startGeminiEmulator({ apiKey: KEY });
    return {
      deployment: (model) => `      - provider: gemini\n        base_url: ${emulator.geminiBaseUrl}\n        model: ${model}\n        api_key: ${KEY}`,
      close: () => emulator.close(),
    };
  },
  expectedText: (subject) => chatAnswer(subject),
  expectedArguments: toolArguments,
  badRequestMessage: new RegExp(BAD_REQUEST_MESSAGE.replace('.', '\\.')),
});
