import { OPENAI_WIRE_CHAT_FIELDS } from '../openai-compatible/fields.js';

/**
 * Azure OpenAI takes OpenAI's request format, so every field travels as the client sent it; the
 * gateway sets only the model and the streaming switches — the same decisions as for any
 * OpenAI-wire upstream. Which fields a deployment knows depends on its api-version and model
 * (e.g. `store`, `prediction` or `reasoning_effort` need newer versions): Azure answers for an
 * unknown one with a 400 that reaches the client as is.
 */
export const AZURE_CHAT_FIELDS = OPENAI_WIRE_CHAT_FIELDS;
