/**
 * What the Anthropic emulator accepts: a POST /v1/messages in the format of the API reference
 * and the `@anthropic-ai/sdk` types, checked strictly, so that a mistranslation by the gateway
 * fails with the 400 the API would give. Where the API has tightened a rule over time (strict
 * alternation of roles, tools defined whenever tool blocks appear), the emulator keeps the
 * strict rule: a request that passes here passes the API.
 */

type Json = Record<string, unknown>;

export const VERSIONS = ['2023-06-01', '2026-10-21'] as const;
export type ApiVersion = (typeof VERSIONS)[number];

/** A refusal in Anthropic's terms: its error type and message (status 400 unless said). */
export class Invalid extends Error {
  constructor(
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly status: number = 400,
  ) {
    super(message);
  }
}

const TOP_LEVEL = new Set([
  'model', 'messages', 'max_tokens', 'system', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_p', 'top_k',
  'tools', 'tool_choice', 'thinking', 'output_config', 'service_tier', 'container', 'inference_geo', 'cache_control', 'speed',
]);
/** Removed in 2026-10-21: sampling parameters are refused there, even at their defaults. */
const SAMPLING = ['temperature', 'top_p', 'top_k'];
const IMAGE_MAGIC: Readonly<Record<string, (bytes: Buffer) => boolean>> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8,
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

export function checkVersion(header: string | string[] | undefined): ApiVersion {
  if (header === undefined) throw new Invalid('anthropic-version: header is required');
  if (!VERSIONS.includes(header as ApiVersion)) throw new Invalid(`anthropic-version: invalid version "${String(header)}"`);
  return header as ApiVersion;
}

/** Checks a parsed request body; throws Invalid with the API's kind of message. */
export function checkMessagesRequest(body: unknown, version: ApiVersion): asserts body is Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Invalid('The request body must be a JSON object.');
  const request = body as Json;
  for (const key of Object.keys(request)) {
    if (!TOP_LEVEL.has(key) || (version !== '2023-06-01' && SAMPLING.includes(key))) throw new Invalid(`${key}: Extra inputs are not permitted`);
  }
  if (typeof request.model !== 'string' || request.model.length === 0) throw new Invalid('model: Field required');
  if (request.max_tokens === undefined) throw new Invalid('max_tokens: Field required');
  if (!Number.isInteger(request.max_tokens) || (request.max_tokens as number) < 1) throw new Invalid('max_tokens: Input should be a positive integer');
  if (request.stream !== undefined && typeof request.stream !== 'boolean') throw new Invalid('stream: Input should be a valid boolean');
  for (const [key, max] of [['temperature', 1], ['top_p', 1]] as const) {
    const value = request[key];
    if (value !== undefined && (typeof value !== 'number' || value < 0 || value > max)) throw new Invalid(`${key}: Input should be between 0 and ${max}`);
  }
  checkSystem(request.system);
  checkMetadata(request.metadata);
  if (request.stop_sequences !== undefined) {
    if (!Array.isArray(request.stop_sequences) || request.stop_sequences.some((stop) => typeof stop !== 'string' || stop.trim() === '')) {
      throw new Invalid('stop_sequences: each stop sequence must be a string with non-whitespace characters');
    }
  }
  const toolNames = checkTools(request.tools);
  checkToolChoice(request.tool_choice, toolNames);
  checkOutputConfig(request.output_config);
  checkMessages(request.messages, version, toolNames !== null);
}

function checkSystem(system: unknown): void {
  if (system === undefined || typeof system === 'string') return;
  if (!Array.isArray(system)) throw new Invalid('system: Input should be a valid string or list of text blocks');
  system.forEach((block, index) => {
    if ((block as Json)?.type !== 'text') throw new Invalid(`system.${index}.type: Input should be 'text'`);
    checkText(block as Json, `system.${index}`);
  });
}

function checkMetadata(metadata: unknown): void {
  if (metadata === undefined) return;
  if (metadata === null || typeof metadata !== 'object') throw new Invalid('metadata: Input should be a valid dictionary');
  for (const [key, value] of Object.entries(metadata)) {
    if (key !== 'user_id') throw new Invalid(`metadata.${key}: Extra inputs are not permitted`);
    if (value !== null && typeof value !== 'string') throw new Invalid('metadata.user_id: Input should be a valid string');
  }
}

/** Returns the offered tool names, or null when the request offers none. */
function checkTools(tools: unknown): Set<string> | null {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) throw new Invalid('tools: Input should be a valid list');
  const names = new Set<string>();
  tools.forEach((tool: Json, index) => {
    const at = `tools.${index}`;
    if (tool === null || typeof tool !== 'object') throw new Invalid(`${at}: Input should be a valid dictionary`);
    for (const key of Object.keys(tool)) {
      if (!['name', 'description', 'input_schema', 'strict', 'cache_control', 'type'].includes(key)) throw new Invalid(`${at}.${key}: Extra inputs are not permitted`);
    }
    if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      throw new Invalid(`${at}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    }
    if (names.has(tool.name)) throw new Invalid('tools: Tool names must be unique.');
    names.add(tool.name);
    if (tool.description !== undefined && typeof tool.description !== 'string') throw new Invalid(`${at}.description: Input should be a valid string`);
    const schema = tool.input_schema as Json | undefined;
    if (schema === null || typeof schema !== 'object' || schema.type !== 'object') throw new Invalid(`${at}.input_schema.type: Input should be 'object'`);
    if (tool.strict !== undefined && typeof tool.strict !== 'boolean') throw new Invalid(`${at}.strict: Input should be a valid boolean`);
    checkCacheControl(tool.cache_control, at);
  });
  return names;
}

function checkToolChoice(choice: unknown, tools: Set<string> | null): void {
  if (choice === undefined) return;
  const value = choice as Json;
  if (value === null || typeof value !== 'object') throw new Invalid('tool_choice: Input should be a valid dictionary');
  const allowed: Record<string, string[]> = {
    auto: ['type', 'disable_parallel_tool_use'],
    any: ['type', 'disable_parallel_tool_use'],
    tool: ['type', 'name', 'disable_parallel_tool_use'],
    none: ['type'],
  };
  const keys = allowed[value.type as string];
  if (keys === undefined) throw new Invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw new Invalid(`tool_choice.${value.type as string}.${key}: Extra inputs are not permitted`);
  if (value.disable_parallel_tool_use !== undefined && typeof value.disable_parallel_tool_use !== 'boolean') {
    throw new Invalid('tool_choice.disable_parallel_tool_use: Input should be a valid boolean');
  }
  if (value.type === 'tool' && (typeof value.name !== 'string' || !tools?.has(value.name))) {
    throw new Invalid(`tool_choice.name: no tool named "${String(value.name)}" is offered`);
  }
}

function checkOutputConfig(config: unknown): void {
  if (config === undefined) return;
  const value = config as Json;
  if (value === null || typeof value !== 'object') throw new Invalid('output_config: Input should be a valid dictionary');
  for (const key of Object.keys(value)) if (key !== 'format' && key !== 'effort') throw new Invalid(`output_config.${key}: Extra inputs are not permitted`);
  if (value.format === undefined || value.format === null) return;
  const format = value.format as Json;
  if (format.type !== 'json_schema' || format.schema === null || typeof format.schema !== 'object') {
    throw new Invalid("output_config.format: Input should be {'type': 'json_schema', 'schema': {...}}");
  }
}

function checkMessages(messages: unknown, version: ApiVersion, toolsDefined: boolean): void {
  if (!Array.isArray(messages)) throw new Invalid('messages: Field required');
  if (messages.length === 0) throw new Invalid('messages: at least one message is required');
  const roles = version === '2023-06-01' ? ['user', 'assistant'] : ['user', 'assistant', 'system'];
  let previousUses: string[] = [];
  let previousRole: string | null = null;
  messages.forEach((message: Json, index) => {
    const at = `messages.${index}`;
    if (message === null || typeof message !== 'object') throw new Invalid(`${at}: Input should be a valid dictionary`);
    for (const key of Object.keys(message)) if (key !== 'role' && key !== 'content') throw new Invalid(`${at}.${key}: Extra inputs are not permitted`);
    if (!roles.includes(message.role as string)) throw new Invalid(`${at}.role: Input should be ${roles.map((role) => `'${role}'`).join(' or ')}`);
    if (index === 0 && message.role !== 'user') throw new Invalid('messages: first message must use the "user" role');
    if (message.role === previousRole) throw new Invalid('messages: roles must alternate between "user" and "assistant"');
    const last = index === messages.length - 1;
    const blocks = checkContent(message.content, message.role as string, at, last);
    const results = blocks.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id as string);
    const uses = blocks.filter((block) => block.type === 'tool_use').map((block) => block.id as string);
    if ((results.length > 0 || uses.length > 0) && !toolsDefined) {
      throw new Invalid('Requests which include `tool_use` or `tool_result` blocks must define tools.');
    }
    if (message.role === 'user') checkToolResults(blocks, results, previousUses, at);
    else if (previousUses.length > 0) throw missingResults(previousUses, index - 1);
    previousUses = message.role === 'assistant' ? uses : [];
    previousRole = message.role as string;
  });
}

function checkToolResults(blocks: Json[], results: string[], previousUses: string[], at: string): void {
  const missing = previousUses.filter((id) => !results.includes(id));
  if (missing.length > 0) throw missingResults(missing, Number(at.split('.')[1]) - 1);
  for (const id of results) {
    if (!previousUses.includes(id)) throw new Invalid(`${at}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
  }
  const firstOther = blocks.findIndex((block) => block.type !== 'tool_result');
  if (firstOther !== -1 && blocks.slice(firstOther).some((block) => block.type === 'tool_result')) {
    throw new Invalid(`${at}.content: \`tool_result\` blocks must come before any other content in the message.`);
  }
}

function missingResults(ids: string[], index: number): Invalid {
  return new Invalid(`messages.${index + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${ids.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
}

const BLOCKS_OF_ROLE: Readonly<Record<string, readonly string[]>> = {
  user: ['text', 'image', 'document', 'tool_result'],
  assistant: ['text', 'tool_use', 'thinking', 'redacted_thinking'],
  system: ['text'],
};

/** Returns the content as blocks (a string counts as one text block). */
function checkContent(content: unknown, role: string, at: string, last: boolean): Json[] {
  const emptyAllowed = last && role === 'assistant';
  if (typeof content === 'string') {
    if (content.length === 0 && !emptyAllowed) throw new Invalid(`${at}: all messages must have non-empty content except for the optional final assistant message`);
    return [{ type: 'text', text: content }];
  }
  if (!Array.isArray(content)) throw new Invalid(`${at}.content: Input should be a valid string or list`);
  if (content.length === 0 && !emptyAllowed) throw new Invalid(`${at}: all messages must have non-empty content except for the optional final assistant message`);
  content.forEach((block: Json, index) => {
    const where = `${at}.content.${index}`;
    if (block === null || typeof block !== 'object') throw new Invalid(`${where}: Input should be a valid dictionary`);
    if (!BLOCKS_OF_ROLE[role]!.includes(block.type as string)) throw new Invalid(`${where}.type: "${String(block.type)}" blocks are not allowed in ${role} messages`);
    checkBlock(block, where);
  });
  return content as Json[];
}

function checkBlock(block: Json, at: string): void {
  switch (block.type) {
    case 'text':
      return checkText(block, at);
    case 'image':
      return checkImage(block, at);
    case 'document':
      return checkDocument(block, at);
    case 'tool_use':
      onlyKeys(block, ['type', 'id', 'name', 'input', 'cache_control', 'caller'], at);
      if (typeof block.id !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(block.id)) throw new Invalid(`${at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (typeof block.name !== 'string' || block.name.length === 0) throw new Invalid(`${at}.name: Field required`);
      if (block.input === null || typeof block.input !== 'object' || Array.isArray(block.input)) throw new Invalid(`${at}.input: Input should be a valid dictionary`);
      return checkCacheControl(block.cache_control, at);
    case 'tool_result':
      onlyKeys(block, ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'], at);
      if (typeof block.tool_use_id !== 'string') throw new Invalid(`${at}.tool_use_id: Field required`);
      if (block.is_error !== undefined && typeof block.is_error !== 'boolean') throw new Invalid(`${at}.is_error: Input should be a valid boolean`);
      if (block.content !== undefined && typeof block.content !== 'string') {
        if (!Array.isArray(block.content)) throw new Invalid(`${at}.content: Input should be a valid string or list`);
        (block.content as Json[]).forEach((inner, index) => {
          if (inner?.type === 'text') checkText(inner, `${at}.content.${index}`);
          else if (inner?.type === 'image') checkImage(inner, `${at}.content.${index}`);
          else throw new Invalid(`${at}.content.${index}.type: Input should be 'text' or 'image'`);
        });
      }
      return checkCacheControl(block.cache_control, at);
    default:
      // thinking and redacted_thinking blocks are opaque: passed back as they came.
      return;
  }
}

function checkText(block: Json, at: string): void {
  onlyKeys(block, ['type', 'text', 'cache_control', 'citations'], at);
  if (typeof block.text !== 'string') throw new Invalid(`${at}.text: Field required`);
  if (block.text.length === 0) throw new Invalid(`${at}.text: text content blocks must be non-empty`);
  checkCacheControl(block.cache_control, at);
}

function checkImage(block: Json, at: string): void {
  onlyKeys(block, ['type', 'source', 'cache_control'], at);
  const source = block.source as Json | undefined;
  if (source?.type === 'url') {
    onlyKeys(source, ['type', 'url'], `${at}.source`);
    if (typeof source.url !== 'string' || !/^https?:\/\//.test(source.url)) throw new Invalid(`${at}.source.url: Input should be a valid URL`);
  } else if (source?.type === 'base64') {
    onlyKeys(source, ['type', 'media_type', 'data'], `${at}.source`);
    const check = IMAGE_MAGIC[source.media_type as string];
    if (check === undefined) throw new Invalid(`${at}.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`);
    const bytes = base64Bytes(source.data, `${at}.source.data`);
    if (!check(bytes)) throw new Invalid(`${at}.source: Image does not match the provided media type ${String(source.media_type)}`);
  } else {
    throw new Invalid(`${at}.source.type: Input should be 'base64', 'url' or 'file'`);
  }
  checkCacheControl(block.cache_control, at);
}

function checkDocument(block: Json, at: string): void {
  onlyKeys(block, ['type', 'source', 'title', 'context', 'citations', 'cache_control'], at);
  const source = block.source as Json | undefined;
  if (source?.type === 'base64') {
    if (source.media_type !== 'application/pdf') throw new Invalid(`${at}.source.media_type: Input should be 'application/pdf'`);
    if (base64Bytes(source.data, `${at}.source.data`).subarray(0, 5).toString('latin1') !== '%PDF-') throw new Invalid(`${at}.source: The PDF specified was not valid.`);
  } else if (source?.type !== 'url' && source?.type !== 'text') {
    throw new Invalid(`${at}.source.type: Input should be 'base64', 'url', 'text' or 'content'`);
  }
  checkCacheControl(block.cache_control, at);
}

function base64Bytes(data: unknown, at: string): Buffer {
  if (typeof data !== 'string' || data.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) {
    throw new Invalid(`${at}: invalid base64 data`);
  }
  return Buffer.from(data, 'base64');
}

function checkCacheControl(value: unknown, at: string): void {
  if (value === undefined || value === null) return;
  const control = value as Json;
  if (control.type !== 'ephemeral') throw new Invalid(`${at}.cache_control.type: Input should be 'ephemeral'`);
  if (control.ttl !== undefined && control.ttl !== '5m' && control.ttl !== '1h') throw new Invalid(`${at}.cache_control.ttl: Input should be '5m' or '1h'`);
}

function onlyKeys(value: Json, keys: readonly string[], at: string): void {
  for (const key of Object.keys(value)) if (!keys.includes(key)) throw new Invalid(`${at}.${key}: Extra inputs are not permitted`);
}
