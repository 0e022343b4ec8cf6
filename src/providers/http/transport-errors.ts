import { GatewayError } from '../../core/errors.js';
import type { Timeouts } from '../../config/deployment-base.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** Maps an undici or socket error to a GatewayError; messages say what happened, never where a secret is. */
export function mapTransportError(error: unknown, timeouts: Timeouts): GatewayError {
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayError('upstream_timeout', {
        message: `Connecting to the upstream took longer than ${timeouts.connect_ms} ms.`,
        transport: 'connect',
        cause: error,
      });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new GatewayError('upstream_timeout', {
        message: `The upstream sent no response within ${timeouts.first_byte_ms} ms.`,
        transport: 'timeout',
        cause: error,
      });
    case 'UND_ERR_BODY_TIMEOUT':
      return new GatewayError('upstream_timeout', {
        message: `The upstream sent nothing for ${timeouts.idle_ms} ms in the middle of its answer.`,
        transport: 'timeout',
        cause: error,
      });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new GatewayError('upstream_unreachable', { message: `The upstream could not be reached (${code}).`, transport: 'connect', cause: error });
  }
  if (code !== undefined && BROKEN.has(code)) {
    return new GatewayError('upstream_error', { message: `The connection to the upstream broke (${code}).`, transport: 'reset', cause: error });
  }
  return new GatewayError('upstream_error', { message: 'The call to the upstream failed.', cause: error });
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // undici wraps socket errors; the useful code may sit one or two causes deep.
  for (let depth = 0; depth < 3 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
