import { argumentFragments, countTokens, embeddingVector, hash32, streamPieces } from './openai-answers.js';

/**
 * What the Bedrock emulator checks and answers, as pure functions of a request body: the
 * validation rules of Converse (written from the API reference: alternating turns, one member per
 * content block, toolUse/toolResult pairing, toolConfig whenever tool blocks appear, value ranges)
 * and of the Titan and Cohere embedding bodies, and the deterministic answers.
 */

type Json = Record<string, unknown>;

/** A refused request: Bedrock's error name and message. */
export interface Refusal {
  readonly type: string;
  readonly message: string;
}

const CONVERSE_FIELDS = new Set([
  'messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig', 'additionalModelRequestFields', 'promptVariables',
  'additionalModelResponseFieldPaths', 'requestMetadata', 'performanceConfig', 'serviceTier', 'outputConfig',
]);
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const BLOCK_MEMBERS = ['text', 'image', 'toolUse', 'toolResult', 'cachePoint', 'document', 'video', 'reasoningContent', 'guardContent'];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

class Invalid extends Error {}

function fail(at: string, constraint: string): never {
  throw new Invalid(`1 validation error detected: Value at '${at}' failed to satisfy constraint: ${constraint}`);
}

function onlyKeys(value: Json, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${at}.${key}`, 'Member is not a known field');
}

/** Null when the body is a correct Converse request; otherwise why Bedrock refuses it. */
export function checkConverse(body: unknown): Refusal | null {
  try {
    if (!isObject(body)) fail('body', 'Member must be a JSON object');
    for (const key of Object.keys(body)) if (!CONVERSE_FIELDS.has(key)) fail(key, 'Member is not a known field');
    checkMessages(body.messages, body.toolConfig !== undefined);
    if (body.system !== undefined) checkSystem(body.system);
    if (body.inferenceConfig !== undefined) checkInference(body.inferenceConfig);
    if (body.toolConfig !== undefined) checkToolConfig(body.toolConfig);
    if (body.outputConfig !== undefined) checkOutputConfig(body.outputConfig);
    checkSmallFields(body);
    return null;
  } catch (error) {
    if (error instanceof Invalid) return { type: 'ValidationException', message: error.message };
    throw error;
  }
}

function checkMessages(messages: unknown, hasToolConfig: boolean): void {
  if (!Array.isArray(messages) || messages.length === 0) fail('messages', 'Member must have length greater than or equal to 1');
  let pendingToolUses: string[] = [];
  messages.forEach((message: unknown, index) => {
    const at = `messages.${index}.member`;
    if (!isObject(message)) fail(at, 'Member must be an object');
    onlyKeys(message, ['role', 'content'], at);
    if (message.role !== 'user' && message.role !== 'assistant') fail(`${at}.role`, 'Member must satisfy enum value set: [user, assistant]');
    const expected = index % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected) {
      throw new Invalid('A conversation must start with a user message and alternate between user and assistant roles. Try again with a conversation that alternates.');
    }
    if (!Array.isArray(message.content) || message.content.length === 0) fail(`${at}.content`, 'Member must have length greater than or equal to 1');
    const uses: string[] = [];
    const results: string[] = [];
    message.content.forEach((block: unknown, blockIndex) => {
      const kind = checkBlock(block, message.role as string, `${at}.content.${blockIndex}.member`, hasToolConfig);
      if (kind === 'toolUse') uses.push((block as { toolUse: { toolUseId: string } }).toolUse.toolUseId);
      if (kind === 'toolResult') results.push((block as { toolResult: { toolUseId: string } }).toolResult.toolUseId);
    });
    // Every toolUse of an assistant turn is answered in the very next user turn, and only those.
    if (message.role === 'user') {
      const unanswered = pendingToolUses.filter((id) => !results.includes(id));
      const unknown = results.filter((id) => !pendingToolUses.includes(id));
      if (unanswered.length > 0) throw new Invalid(`Expected toolResult blocks at messages.${index}.content for the following Ids: ${unanswered.join(', ')}`);
      if (unknown.length > 0) throw new Invalid(`The toolResult blocks at messages.${index}.content have no matching toolUse in the previous turn: ${unknown.join(', ')}`);
    }
    pendingToolUses = message.role === 'assistant' ? uses : [];
  });
}

function checkBlock(block: unknown, role: string, at: string, hasToolConfig: boolean): string {
  if (!isObject(block)) fail(at, 'Member must be an object');
  const members = Object.keys(block);
  if (members.length !== 1 || !BLOCK_MEMBERS.includes(members[0]!)) fail(at, 'Member must have exactly one of the members of ContentBlock');
  const kind = members[0]!;
  switch (kind) {
    case 'text':
      if (typeof block.text !== 'string') fail(`${at}.text`, 'Member must be a string');
      if (block.text.trim().length === 0) {
        throw new Invalid(`The text field in the ContentBlock object at ${at.replace(/\.member/g, '')} is blank. Add text to the text field, and try again.`);
      }
      break;
    case 'image':
      if (role !== 'user') fail(at, 'Images are allowed only in user messages');
      checkImage(block.image, `${at}.image`);
      break;
    case 'toolUse': {
      if (role !== 'assistant') fail(at, 'toolUse blocks are allowed only in assistant messages');
      const use = block.toolUse;
      if (!isObject(use)) fail(`${at}.toolUse`, 'Member must be an object');
      onlyKeys(use, ['toolUseId', 'name', 'input', 'type'], `${at}.toolUse`);
      if (typeof use.toolUseId !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(use.toolUseId)) fail(`${at}.toolUse.toolUseId`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
      if (typeof use.name !== 'string' || !TOOL_NAME.test(use.name)) fail(`${at}.toolUse.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
      if (!isObject(use.input)) fail(`${at}.toolUse.input`, 'Member must be a JSON object');
      break;
    }
    case 'toolResult':
      if (role !== 'user') fail(at, 'toolResult blocks are allowed only in user messages');
      checkToolResult(block.toolResult, `${at}.toolResult`);
      break;
    case 'cachePoint':
      if (!isObject(block.cachePoint) || block.cachePoint.type !== 'default') fail(`${at}.cachePoint.type`, 'Member must satisfy enum value set: [default]');
      break;
    default:
      fail(at, `The emulator does not take ${kind} blocks`);
  }
  if ((kind === 'toolUse' || kind === 'toolResult') && !hasToolConfig) {
    throw new Invalid('The toolConfig field must be defined when using toolUse and toolResult content blocks.');
  }
  return kind;
}

function checkImage(image: unknown, at: string): void {
  if (!isObject(image)) fail(at, 'Member must be an object');
  onlyKeys(image, ['format', 'source'], at);
  if (typeof image.format !== 'string' || !IMAGE_FORMATS.has(image.format)) fail(`${at}.format`, 'Member must satisfy enum value set: [png, jpeg, gif, webp]');
  const source = image.source;
  if (!isObject(source) || Object.keys(source).length !== 1 || typeof source.bytes !== 'string') fail(`${at}.source`, 'Member must have exactly one of: bytes, s3Location');
  if (source.bytes.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(source.bytes) || source.bytes.length % 4 !== 0) {
    fail(`${at}.source.bytes`, 'Member must be base64-encoded binary data');
  }
}

function checkToolResult(result: unknown, at: string): void {
  if (!isObject(result)) fail(at, 'Member must be an object');
  onlyKeys(result, ['toolUseId', 'content', 'status', 'type'], at);
  if (typeof result.toolUseId !== 'string') fail(`${at}.toolUseId`, 'Member must not be null');
  if (!Array.isArray(result.content)) fail(`${at}.content`, 'Member must not be null');
  result.content.forEach((item: unknown, index) => {
    const itemAt = `${at}.content.${index}.member`;
    if (!isObject(item) || Object.keys(item).length !== 1) fail(itemAt, 'Member must have exactly one of: text, json, image, document, video');
    if ('text' in item && typeof item.text !== 'string') fail(`${itemAt}.text`, 'Member must be a string');
    if (!('text' in item) && !('json' in item)) fail(itemAt, 'The emulator takes text and json tool results');
  });
  if (result.status !== undefined && result.status !== 'success' && result.status !== 'error') fail(`${at}.status`, 'Member must satisfy enum value set: [success, error]');
}

function checkSystem(system: unknown): void {
  if (!Array.isArray(system)) fail('system', 'Member must be a list');
  system.forEach((block: unknown, index) => {
    const at = `system.${index}.member`;
    if (!isObject(block) || Object.keys(block).length !== 1) fail(at, 'Member must have exactly one of: text, guardContent, cachePoint');
    if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) fail(`${at}.text`, 'Member must be a non-blank string');
    if (!('text' in block) && !('cachePoint' in block)) fail(at, 'The emulator takes text and cachePoint system blocks');
  });
}

function checkInference(config: unknown): void {
  if (!isObject(config)) fail('inferenceConfig', 'Member must be an object');
  onlyKeys(config, ['maxTokens', 'temperature', 'topP', 'stopSequences'], 'inferenceConfig');
  const { maxTokens, temperature, topP, stopSequences } = config;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || (maxTokens as number) < 1)) fail('inferenceConfig.maxTokens', 'Member must have value greater than or equal to 1');
  for (const [name, value] of [['temperature', temperature], ['topP', topP]] as const) {
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) fail(`inferenceConfig.${name}`, 'Member must have value between 0 and 1');
  }
  if (stopSequences !== undefined && (!Array.isArray(stopSequences) || !stopSequences.every((item) => typeof item === 'string' && item.length > 0))) {
    fail('inferenceConfig.stopSequences', 'Member must be a list of non-empty strings');
  }
}

function checkToolConfig(config: unknown): void {
  if (!isObject(config)) fail('toolConfig', 'Member must be an object');
  onlyKeys(config, ['tools', 'toolChoice'], 'toolConfig');
  if (!Array.isArray(config.tools) || config.tools.length === 0) fail('toolConfig.tools', 'Member must have length greater than or equal to 1');
  const names: string[] = [];
  config.tools.forEach((tool: unknown, index) => {
    const at = `toolConfig.tools.${index}.member`;
    if (!isObject(tool) || Object.keys(tool).length !== 1 || !isObject(tool.toolSpec)) fail(at, 'Member must have exactly one of: toolSpec, systemTool, cachePoint');
    const spec = tool.toolSpec;
    onlyKeys(spec, ['name', 'description', 'inputSchema', 'strict'], `${at}.toolSpec`);
    if (typeof spec.name !== 'string' || !TOOL_NAME.test(spec.name)) fail(`${at}.toolSpec.name`, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+');
    if (spec.description !== undefined && (typeof spec.description !== 'string' || spec.description.length === 0)) fail(`${at}.toolSpec.description`, 'Member must have length greater than or equal to 1');
    const schema = spec.inputSchema;
    if (!isObject(schema) || Object.keys(schema).length !== 1 || !isObject(schema.json)) fail(`${at}.toolSpec.inputSchema`, 'Member must have exactly one of: json');
    if (schema.json.type !== 'object') throw new Invalid(`The value at ${at.replace(/\.member/g, '')}.toolSpec.inputSchema.json.type must be object.`);
    names.push(spec.name);
  });
  const choice = config.toolChoice;
  if (choice === undefined) return;
  if (!isObject(choice) || Object.keys(choice).length !== 1) fail('toolConfig.toolChoice', 'Member must have exactly one of: auto, any, tool');
  if ('auto' in choice || 'any' in choice) {
    const inner = choice.auto ?? choice.any;
    if (!isObject(inner) || Object.keys(inner).length > 0) fail('toolConfig.toolChoice', 'auto and any take an empty object');
  } else if (!isObject(choice.tool) || typeof choice.tool.name !== 'string' || !names.includes(choice.tool.name)) {
    fail('toolConfig.toolChoice.tool.name', 'Member must name one of the tools');
  }
}

function checkOutputConfig(config: unknown): void {
  if (!isObject(config)) fail('outputConfig', 'Member must be an object');
  onlyKeys(config, ['textFormat', 'effort'], 'outputConfig');
  const format = config.textFormat;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.structure) || !isObject(format.structure.jsonSchema)) {
    fail('outputConfig.textFormat', 'Member must be {type: json_schema, structure: {jsonSchema}}');
  }
  const schema = format.structure.jsonSchema.schema;
  if (typeof schema !== 'string') fail('outputConfig.textFormat.structure.jsonSchema.schema', 'Member must be a string');
  try {
    JSON.parse(schema);
  } catch {
    fail('outputConfig.textFormat.structure.jsonSchema.schema', 'Member must be a JSON schema');
  }
}

function checkSmallFields(body: Json): void {
  const metadata = body.requestMetadata;
  if (metadata !== undefined && (!isObject(metadata) || !Object.values(metadata).every((value) => typeof value === 'string') || Object.keys(metadata).length > 16)) {
    fail('requestMetadata', 'Member must be a map of at most 16 strings');
  }
  const tier = body.serviceTier;
  if (tier !== undefined && (!isObject(tier) || !['default', 'flex', 'priority', 'reserved'].includes(tier.type as string))) {
    fail('serviceTier.type', 'Member must satisfy enum value set: [default, flex, priority, reserved]');
  }
  const guardrail = body.guardrailConfig;
  if (guardrail !== undefined && (!isObject(guardrail) || typeof guardrail.guardrailIdentifier !== 'string' || typeof guardrail.guardrailVersion !== 'string')) {
    fail('guardrailConfig', 'Member must have guardrailIdentifier and guardrailVersion');
  }
  if (body.additionalModelRequestFields !== undefined && !isObject(body.additionalModelRequestFields)) {
    fail('additionalModelRequestFields', 'Member must be a JSON object');
  }
}

// ---------------------------------------------------------------- answers

/** The answer text for a subject (the last user turn's text). */
export function echoText(subject: string): string {
  return `Echo: ${subject}`;
}

export function echoToolInput(subject: string, tool: string): Json {
  return { tool, query: subject };
}

export function toolUseId(subject: string, tool: string): string {
  return `tooluse_${hash32(`${subject}\u0000${tool}`).toString(36)}`;
}

/** The text of the last user turn: its text blocks, `[image]` per image, and tool results' texts. */
export function subjectOf(body: Json): string {
  const messages = body.messages as { role: string; content: Json[] }[];
  const last = [...messages].reverse().find((message) => message.role === 'user');
  const parts: string[] = [];
  for (const block of last?.content ?? []) {
    if (typeof block.text === 'string') parts.push(block.text);
    else if (block.image !== undefined) parts.push('[image]');
    else if (isObject(block.toolResult)) {
      for (const item of block.toolResult.content as Json[]) parts.push(typeof item.text === 'string' ? item.text : JSON.stringify(item.json));
    }
  }
  return parts.join(' ');
}

export interface ConversePlan {
  /** Text said before any tool call (a "preamble", as Claude often writes one). */
  readonly text: string | null;
  readonly tool: { readonly id: string; readonly name: string; readonly input: Json } | null;
  readonly stopReason: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  readonly usage: { inputTokens: number; outputTokens: number; totalTokens: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number };
}

/**
 * The answer: a call of the named tool, or of the first tool when tools are offered and the last
 * turn is not a tool result (or the choice is `any`); else the echo, cut at a stop sequence or
 * after maxTokens words. Models whose id holds `preamble` say a sentence before a tool call;
 * `cached` ones report cache reads and writes.
 */
export function planConverse(body: Json, modelId: string): ConversePlan {
  const subject = subjectOf(body);
  const config = body.toolConfig as { tools: { toolSpec: { name: string } }[]; toolChoice?: Json } | undefined;
  const messages = body.messages as { role: string; content: Json[] }[];
  const lastIsToolResult = messages.at(-1)!.content.some((block) => block.toolResult !== undefined);
  const choice = config?.toolChoice;
  const named = isObject(choice?.tool) ? (choice.tool.name as string) : null;
  const callTool = config !== undefined && (named !== null || choice?.any !== undefined || !lastIsToolResult);
  let inputTokens = 0;
  for (const block of (body.system as Json[] | undefined) ?? []) if (typeof block.text === 'string') inputTokens += countTokens(block.text);
  for (const message of messages) inputTokens += countTokens(JSON.stringify(message.content)) + 1;
  const cache = /cached/.test(modelId) ? { cacheReadInputTokens: 5, cacheWriteInputTokens: 3 } : {};
  if (callTool) {
    const name = named ?? config.tools[0]!.toolSpec.name;
    const input = echoToolInput(subject, name);
    const text = /preamble/.test(modelId) ? 'Let me look that up.' : null;
    const outputTokens = argumentFragments(JSON.stringify(input)).length + 1 + (text === null ? 0 : countTokens(text));
    return { text, tool: { id: toolUseId(subject, name), name, input }, stopReason: 'tool_use', usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, ...cache } };
  }
  const format = (body.outputConfig as { textFormat?: unknown } | undefined)?.textFormat;
  let text = format === undefined ? echoText(subject) : JSON.stringify({ echo: subject });
  let stopReason: ConversePlan['stopReason'] = 'end_turn';
  const inference = (body.inferenceConfig ?? {}) as { maxTokens?: number; stopSequences?: string[] };
  for (const stop of inference.stopSequences ?? []) {
    const at = text.indexOf(stop);
    if (at >= 0) {
      text = text.slice(0, at);
      stopReason = 'stop_sequence';
    }
  }
  const pieces = streamPieces(text);
  if (inference.maxTokens !== undefined && pieces.length > inference.maxTokens) {
    text = pieces.slice(0, inference.maxTokens).join('');
    stopReason = 'max_tokens';
  }
  const outputTokens = Math.max(1, countTokens(text));
  return { text, tool: null, stopReason, usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, ...cache } };
}

// ---------------------------------------------------------------- embeddings

export type EmbedModel = 'titan-v1' | 'titan-v2' | 'cohere-v3' | 'cohere-v4';

export function embedModel(modelId: string): EmbedModel | null {
  if (/titan-embed-text-v1|titan-embed-g1/.test(modelId)) return 'titan-v1';
  if (/titan-embed/.test(modelId)) return 'titan-v2';
  if (/cohere\.embed-v4/.test(modelId)) return 'cohere-v4';
  if (/cohere\.embed/.test(modelId)) return 'cohere-v3';
  return null;
}

/** Checks an InvokeModel body for an embedding model; answers with the body and the input token count. */
export function answerEmbedding(kind: EmbedModel, body: unknown): { refusal: Refusal } | { answer: Json; inputTokens: number } {
  const refuse = (message: string) => ({ refusal: { type: 'ValidationException', message: `Malformed input request: ${message}, please reformat your input and try again.` } });
  if (!isObject(body)) return refuse('#: expected type: JSONObject');
  if (kind === 'titan-v1' || kind === 'titan-v2') {
    const allowed = kind === 'titan-v1' ? ['inputText'] : ['inputText', 'dimensions', 'normalize', 'embeddingTypes'];
    const extra = Object.keys(body).find((key) => !allowed.includes(key));
    if (extra !== undefined) return refuse(`#: extraneous key [${extra}] is not permitted`);
    if (typeof body.inputText !== 'string' || body.inputText.length === 0) return refuse('#/inputText: expected minLength: 1');
    const dimensions = body.dimensions ?? (kind === 'titan-v1' ? 1536 : 1024);
    const sizes = kind === 'titan-v1' ? [1536] : [256, 512, 1024];
    if (!sizes.includes(dimensions as number)) return refuse(`#/dimensions: ${String(dimensions)} is not a valid enum value`);
    if (body.normalize !== undefined && typeof body.normalize !== 'boolean') return refuse('#/normalize: expected type: Boolean');
    const embedding = embeddingVector(body.inputText, dimensions as number);
    const tokens = countTokens(body.inputText);
    return { answer: { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: tokens }, inputTokens: tokens };
  }
  const allowed = ['texts', 'input_type', 'truncate', 'embedding_types', ...(kind === 'cohere-v4' ? ['output_dimension'] : [])];
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  if (extra !== undefined) return refuse(`#: extraneous key [${extra}] is not permitted`);
  const texts = body.texts;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96 || !texts.every((text) => typeof text === 'string')) {
    return refuse('#/texts: expected 1 to 96 strings');
  }
  if (!['search_document', 'search_query', 'classification', 'clustering'].includes(body.input_type as string)) {
    return refuse('#/input_type: is not a valid enum value');
  }
  const dimensions = (body.output_dimension as number | undefined) ?? (kind === 'cohere-v4' ? 1536 : 1024);
  const vectors = (texts as string[]).map((text) => embeddingVector(text, dimensions));
  const inputTokens = (texts as string[]).reduce((sum, text) => sum + countTokens(text), 0);
  const id = `emb-${hash32(JSON.stringify(texts)).toString(36)}`;
  const answer = kind === 'cohere-v4'
    ? { id, texts, embeddings: { float: vectors }, response_type: 'embeddings_by_type' }
    : { id, texts, embeddings: vectors, response_type: 'embeddings_floats' };
  return { answer, inputTokens };
}
