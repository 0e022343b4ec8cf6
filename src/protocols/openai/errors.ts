import type { GatewayError } from '../../core/errors.js';

/** OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`. */
export function openAiErrorBody(error: GatewayError): string {
  return JSON.stringify({
    error: {
      message: error.message,
      type: error.type,
      param: error.param,
      code: error.upstreamCode ?? error.code,
    },
  });
}
