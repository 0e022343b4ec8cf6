import { answerText, toolInput } from '../emulators/anthropic-answers.js';
import { BAD_REQUEST_MESSAGE, startAnthropicEmulator } from '../emulators/anthropic.js';
import { providerConformance } from './provider-conformance.js';

const KEY = 'sk-ant-conformance-upstream-0123';

providerConformance({
  provider: 'anthropic',
  async start() {
    const emulator = await startAnthropicEmulator({ apiKey: KEY });
    return {
      deployment: (model) => `      - provider: anthropic\n        base_url: ${emulator.url}\n        model: ${model}\n        api_key: ${KEY}`,
      close: () => emulator.close(),
    };
  },
  expectedText: answerText,
  expectedArguments: toolInput,
  badRequestMessage: new RegExp(BAD_REQUEST_MESSAGE),
});
