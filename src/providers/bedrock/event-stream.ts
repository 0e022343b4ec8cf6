import type { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Message } from '@smithy/types';
import { GatewayError } from '../../core/errors.js';

/**
 * Reads `application/vnd.amazon.eventstream`, the binary framing of Bedrock's streamed answers:
 * each frame is a 12-byte prelude (total length, headers length, prelude CRC32), headers, a JSON
 * payload and a CRC32 of the whole frame. Network chunks cut frames anywhere, so a splitter
 * collects whole frames first; @smithy's codec then checks both CRCs and parses the headers.
 */

export const EVENT_STREAM_TYPE = 'application/vnd.amazon.eventstream';

const PRELUDE_LENGTH = 12;
const CHECKSUM_LENGTH = 4;
/** AWS caps a frame at 16 MiB of payload plus 128 KiB of headers; anything larger is garbage. */
const MAX_FRAME_LENGTH = 16 * 1024 * 1024 + 128 * 1024 + PRELUDE_LENGTH + CHECKSUM_LENGTH;

/**
 * Cuts a byte stream into whole frames by their length prefix. Chunks are kept as they came and
 * copied only when a frame spans several of them, so a long stream costs no re-buffering.
 */
export class FrameSplitter {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already handed out. */
  private offset = 0;
  private buffered = 0;
  /** Total length of the frame at the front; 0 until its prelude has arrived. */
  private frameLength = 0;

  /** Adds a chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.frameLength === 0) {
        if (this.buffered < 4) break;
        const length = this.peekLength();
        if (length < PRELUDE_LENGTH + CHECKSUM_LENGTH || length > MAX_FRAME_LENGTH) {
          throw new GatewayError('upstream_bad_response', { message: `The upstream sent an event-stream frame of impossible length ${length}.` });
        }
        this.frameLength = length;
      }
      if (this.buffered < this.frameLength) break;
      frames.push(this.take(this.frameLength));
      this.frameLength = 0;
    }
    return frames;
  }

  /** Bytes received that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** The big-endian total length at the front, which may straddle chunks. */
  private peekLength(): number {
    let value = 0;
    let chunkIndex = 0;
    let position = this.offset;
    for (let i = 0; i < 4; i++) {
      while (position >= this.chunks[chunkIndex]!.length) {
        chunkIndex++;
        position = 0;
      }
      value = value * 256 + this.chunks[chunkIndex]![position++]!;
    }
    return value;
  }

  private take(length: number): Uint8Array {
    const first = this.chunks[0]!;
    this.buffered -= length;
    if (first.length - this.offset >= length) {
      const frame = first.subarray(this.offset, this.offset + length);
      this.offset += length;
      if (this.offset === first.length) this.dropFirst();
      return frame;
    }
    const frame = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const count = Math.min(chunk.length - this.offset, length - filled);
      frame.set(chunk.subarray(this.offset, this.offset + count), filled);
      filled += count;
      this.offset += count;
      if (this.offset === chunk.length) this.dropFirst();
    }
    return frame;
  }

  private dropFirst(): void {
    this.chunks.shift();
    this.offset = 0;
  }
}

/** One decoded frame: an event of the answer, or an exception that ends it. */
export type StreamFrame =
  | { readonly kind: 'event'; readonly type: string; readonly payload: Record<string, unknown> }
  | { readonly kind: 'exception'; readonly type: string; readonly message: string | null };

let codecPromise: Promise<EventStreamCodec> | undefined;

/** The codec, loaded on first use (see createSigner in api.ts for why). */
export function eventStreamCodec(): Promise<EventStreamCodec> {
  codecPromise ??= Promise.all([import('@smithy/eventstream-codec'), import('@smithy/util-utf8')]).then(
    ([{ EventStreamCodec: Codec }, { fromUtf8, toUtf8 }]) => new Codec(toUtf8, fromUtf8),
  );
  return codecPromise;
}

/** Decodes a whole frame (checking both CRCs) into an event or an exception. */
export function decodeFrame(codec: EventStreamCodec, bytes: Uint8Array): StreamFrame {
  let message: Message;
  try {
    message = codec.decode(bytes);
  } catch (error) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent an event-stream frame that is corrupt (a CRC or header mismatch).', cause: error });
  }
  const messageType = headerString(message, ':message-type');
  if (messageType === 'error') {
    // A service-level failure: the error is in headers, not in the payload.
    return { kind: 'exception', type: headerString(message, ':error-code') ?? 'error', message: headerString(message, ':error-message') };
  }
  const payload = parsePayload(message.body);
  if (messageType === 'exception') {
    const text = payload.message ?? payload.Message;
    return { kind: 'exception', type: headerString(message, ':exception-type') ?? 'exception', message: typeof text === 'string' ? text : null };
  }
  const type = headerString(message, ':event-type');
  if (messageType !== 'event' || type === null) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent an event-stream frame without a known message type.' });
  }
  return { kind: 'event', type, payload };
}

function headerString(message: Message, name: string): string | null {
  const header = message.headers[name];
  return header !== undefined && header.type === 'string' ? header.value : null;
}

const utf8 = new TextDecoder();

function parsePayload(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event whose payload is not JSON.' });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('upstream_bad_response', { message: 'The upstream sent a stream event whose payload is not a JSON object.' });
  }
  return value as Record<string, unknown>;
}

/**
 * The frames of an event-stream body, decoded as their bytes arrive; the next chunk is read only
 * when the consumer asks for the next frame (backpressure). A body that ends inside a frame was
 * cut off. Whatever interrupts reading goes through `failure` (abort reasons, timeouts).
 */
export async function* eventStreamFrames(
  body: AsyncIterable<Uint8Array>,
  failure: (error: unknown) => GatewayError,
): AsyncGenerator<StreamFrame> {
  const splitter = new FrameSplitter();
  try {
    const codec = await eventStreamCodec();
    for await (const chunk of body) {
      for (const frame of splitter.push(chunk)) yield decodeFrame(codec, frame);
    }
  } catch (error) {
    throw error instanceof GatewayError ? error : failure(error);
  } finally {
    // Reached early only when the consumer stopped (client gone) or reading failed.
    const destroy = (body as { destroy?: () => void }).destroy;
    if (typeof destroy === 'function') destroy.call(body);
  }
  if (splitter.pendingBytes > 0) {
    throw new GatewayError('upstream_error', { message: 'The upstream ended its stream in the middle of an event.' });
  }
}
