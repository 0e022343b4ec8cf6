/**
 * What the Gemini/Vertex emulator accepts: GenerateContent and embeddings requests in the shape of
 * Google's REST reference and the `@google/genai` types, checked strictly — an unknown field, a
 * JSON-Schema keyword Google's Schema lacks, a lower-case type, a function result that answers no
 * call, a tool turn of a thinking model without its thought signature — each gets the 400 Google
 * would give, with Google's kind of message, so a mistranslation by the gateway fails.
 */

type Json = Record<string, unknown>;

/** A refusal in Google's terms: HTTP status, status name, message. */
export class GoogleInvalid extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly statusName = 'INVALID_ARGUMENT',
    readonly details: readonly Json[] = [],
  ) {
    super(message);
  }
}

const REQUEST_FIELDS = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'safetySettings', 'cachedContent', 'labels', 'model']);
const PART_DATA = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const PART_EXTRA = new Set(['thought', 'thoughtSignature', 'videoMetadata', 'mediaResolution', 'partMetadata']);
const GENERATION_FIELDS = new Set([
  'maxOutputTokens', 'temperature', 'topP', 'topK', 'candidateCount', 'stopSequences', 'seed', 'presencePenalty', 'frequencyPenalty',
  'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseLogprobs', 'logprobs', 'thinkingConfig', 'responseModalities',
  'mediaResolution', 'speechConfig',
]);
const SCHEMA_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'items', 'properties', 'required', 'propertyOrdering', 'anyOf',
  'minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties', 'minimum', 'maximum', 'pattern', 'default', 'example',
]);
const SCHEMA_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const MIME_TYPES = new Set(['text/plain', 'application/json', 'text/x.enum']);
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

export interface CheckedRequest {
  /** The declared functions, by name. */
  readonly functions: readonly string[];
}

/** Checks a GenerateContentRequest; `thinking` models insist on thought signatures as Gemini 3 does. */
export function checkGenerateContent(body: unknown, options: { thinking: boolean }): CheckedRequest {
  const request = object(body, 'GenerateContentRequest');
  unknownFields(request, REQUEST_FIELDS, '');
  if (request.contents === undefined) throw new GoogleInvalid('* GenerateContentRequest.contents: contents is not specified');
  const contents = array(request.contents, 'contents');
  if (contents.length === 0) throw new GoogleInvalid('* GenerateContentRequest.contents: contents is not specified');
  contents.forEach((content, index) => checkContent(content, `contents[${index}]`));
  checkTurns(contents as Json[], options.thinking);
  if (request.systemInstruction !== undefined) checkSystemInstruction(request.systemInstruction);
  const functions = request.tools === undefined ? [] : checkTools(request.tools);
  if (request.toolConfig !== undefined) checkToolConfig(request.toolConfig, functions);
  if (request.generationConfig !== undefined) checkGenerationConfig(request.generationConfig);
  return { functions };
}

function checkContent(value: unknown, where: string): void {
  const content = object(value, where);
  unknownFields(content, new Set(['role', 'parts']), where);
  if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
    throw new GoogleInvalid(`Please use a valid role: user, model. (${where}.role: ${JSON.stringify(content.role)})`);
  }
  const parts = array(content.parts, `${where}.parts`);
  if (parts.length === 0) throw new GoogleInvalid(`* GenerateContentRequest.${where}.parts: contents.parts must not be empty.`);
  parts.forEach((part, index) => checkPart(part, `${where}.parts[${index}]`));
}

function checkPart(value: unknown, where: string): void {
  const part = object(value, where);
  const data = Object.keys(part).filter((key) => PART_DATA.includes(key));
  for (const key of Object.keys(part)) {
    if (!PART_DATA.includes(key) && !PART_EXTRA.has(key)) throw unknownName(key, where);
  }
  if (data.length !== 1) throw new GoogleInvalid(`* GenerateContentRequest.${where}.data: required oneof field 'data' must have one initialized field`);
  if (part.text !== undefined && typeof part.text !== 'string') throw invalidValue(`${where}.text`, part.text);
  if (part.thoughtSignature !== undefined && (typeof part.thoughtSignature !== 'string' || part.thoughtSignature === '')) {
    throw invalidValue(`${where}.thought_signature`, part.thoughtSignature);
  }
  if (part.inlineData !== undefined) {
    const blob = object(part.inlineData, `${where}.inlineData`);
    unknownFields(blob, new Set(['mimeType', 'data', 'displayName']), `${where}.inlineData`);
    if (typeof blob.mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(blob.mimeType)) throw invalidValue(`${where}.inline_data.mime_type`, blob.mimeType);
    if (typeof blob.data !== 'string' || blob.data === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(blob.data) || blob.data.length % 4 !== 0) {
      throw new GoogleInvalid(`Invalid value at '${where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed`);
    }
  }
  if (part.fileData !== undefined) {
    const file = object(part.fileData, `${where}.fileData`);
    unknownFields(file, new Set(['mimeType', 'fileUri', 'displayName']), `${where}.fileData`);
    if (typeof file.fileUri !== 'string' || file.fileUri === '') throw new GoogleInvalid(`* GenerateContentRequest.${where}.file_data.file_uri: file_uri is not specified`);
    if (typeof file.mimeType !== 'string' || file.mimeType === '') throw new GoogleInvalid(`* GenerateContentRequest.${where}.file_data.mime_type: mime_type is not specified`);
  }
  if (part.functionCall !== undefined) {
    const call = object(part.functionCall, `${where}.functionCall`);
    unknownFields(call, new Set(['name', 'args', 'id']), `${where}.functionCall`);
    if (typeof call.name !== 'string' || call.name === '') throw new GoogleInvalid(`* GenerateContentRequest.${where}.function_call.name: name is not specified`);
    if (call.args !== undefined) object(call.args, `${where}.functionCall.args`);
  }
  if (part.functionResponse !== undefined) {
    const response = object(part.functionResponse, `${where}.functionResponse`);
    unknownFields(response, new Set(['name', 'response', 'id', 'parts', 'willContinue', 'scheduling']), `${where}.functionResponse`);
    if (typeof response.name !== 'string' || response.name === '') throw new GoogleInvalid(`* GenerateContentRequest.${where}.function_response.name: name is not specified`);
    object(response.response, `${where}.functionResponse.response`);
  }
}

/**
 * Function results answer the call turn right before them, one result per call; a thinking model
 * wants the first call of every model turn to carry its thought signature.
 */
function checkTurns(contents: readonly Json[], thinking: boolean): void {
  contents.forEach((content, index) => {
    const parts = content.parts as Json[];
    const calls = parts.filter((part) => part.functionCall !== undefined);
    if (thinking && content.role === 'model' && calls.length > 0 && calls[0]!.thoughtSignature === undefined) {
      const name = (calls[0]!.functionCall as Json).name as string;
      throw new GoogleInvalid(
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${index + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    }
    const results = parts.filter((part) => part.functionResponse !== undefined);
    if (results.length === 0) return;
    const previous = contents[index - 1];
    const asked = previous?.role === 'model' ? (previous.parts as Json[]).filter((part) => part.functionCall !== undefined) : [];
    if (asked.length === 0) {
      throw new GoogleInvalid('Please ensure that function response turn comes immediately after a function call turn.');
    }
    if (asked.length !== results.length) {
      throw new GoogleInvalid('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
    }
    const names = asked.map((part) => (part.functionCall as Json).name).sort();
    const answered = results.map((part) => (part.functionResponse as Json).name).sort();
    if (JSON.stringify(names) !== JSON.stringify(answered)) {
      throw new GoogleInvalid(`Please ensure that the function response names match the function call names (${names.join(', ')}).`);
    }
  });
}

function checkSystemInstruction(value: unknown): void {
  const content = object(value, 'systemInstruction');
  unknownFields(content, new Set(['role', 'parts']), 'systemInstruction');
  const parts = array(content.parts, 'systemInstruction.parts');
  if (parts.length === 0) throw new GoogleInvalid('* GenerateContentRequest.system_instruction.parts: contents.parts must not be empty.');
  parts.forEach((part, index) => {
    const text = object(part, `systemInstruction.parts[${index}]`).text;
    if (typeof text !== 'string') throw new GoogleInvalid('* GenerateContentRequest.system_instruction: only text parts are supported.');
  });
}

function checkTools(value: unknown): string[] {
  const names: string[] = [];
  array(value, 'tools').forEach((tool, index) => {
    const where = `tools[${index}]`;
    const entry = object(tool, where);
    unknownFields(entry, new Set(['functionDeclarations', 'googleSearch', 'codeExecution', 'urlContext']), where);
    if (entry.functionDeclarations === undefined) return;
    array(entry.functionDeclarations, `${where}.functionDeclarations`).forEach((declaration, at) => {
      const path = `${where}.function_declarations[${at}]`;
      const fn = object(declaration, path);
      unknownFields(fn, new Set(['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'behavior']), path);
      if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
        throw new GoogleInvalid(`* GenerateContentRequest.${path}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.`);
      }
      if (fn.description !== undefined && typeof fn.description !== 'string') throw invalidValue(`${path}.description`, fn.description);
      if (fn.parameters !== undefined) {
        const parameters = checkSchema(fn.parameters, `${path}.parameters`);
        if (parameters.type === 'OBJECT' && (parameters.properties === undefined || Object.keys(parameters.properties as Json).length === 0)) {
          throw new GoogleInvalid(`* GenerateContentRequest.${path}.parameters.properties: should be non-empty for OBJECT type`);
        }
      }
      names.push(fn.name);
    });
  });
  return names;
}

/** A value of Google's Schema (OpenAPI subset): known keywords only, upper-case types. */
export function checkSchema(value: unknown, where: string): Json {
  const schema = object(value, where);
  for (const key of Object.keys(schema)) if (!SCHEMA_FIELDS.has(key)) throw unknownName(key, where);
  if (schema.type !== undefined && (typeof schema.type !== 'string' || !SCHEMA_TYPES.has(schema.type))) {
    throw new GoogleInvalid(`Invalid value at '${where}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(schema.type)}`);
  }
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.some((item) => typeof item !== 'string'))) {
    throw invalidValue(`${where}.enum`, schema.enum);
  }
  if (schema.format !== undefined) {
    const allowed: Record<string, string[]> = { STRING: ['enum', 'date-time'], NUMBER: ['float', 'double'], INTEGER: ['int32', 'int64'] };
    if (!(allowed[schema.type as string] ?? []).includes(schema.format as string)) {
      throw new GoogleInvalid(`* GenerateContentRequest.${where}.format: only 'enum' and 'date-time' are supported for STRING type`);
    }
  }
  for (const key of ['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']) {
    if (schema[key] !== undefined && !/^\d+$/.test(String(schema[key]))) throw invalidValue(`${where}.${key}`, schema[key]);
  }
  if (schema.properties !== undefined) {
    for (const [name, property] of Object.entries(object(schema.properties, `${where}.properties`))) checkSchema(property, `${where}.properties[${name}].value`);
  }
  if (schema.required !== undefined && (!Array.isArray(schema.required) || schema.required.some((item) => typeof item !== 'string'))) {
    throw invalidValue(`${where}.required`, schema.required);
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${where}.items`);
  if (schema.anyOf !== undefined) array(schema.anyOf, `${where}.anyOf`).forEach((branch, index) => checkSchema(branch, `${where}.any_of[${index}]`));
  return schema;
}

function checkToolConfig(value: unknown, functions: readonly string[]): void {
  const config = object(object(value, 'toolConfig').functionCallingConfig ?? {}, 'toolConfig.functionCallingConfig');
  unknownFields(config, new Set(['mode', 'allowedFunctionNames', 'streamFunctionCallArguments']), 'tool_config.function_calling_config');
  const mode = config.mode ?? 'AUTO';
  if (!['AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(mode as string)) {
    throw new GoogleInvalid(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(mode)}`);
  }
  if (config.allowedFunctionNames === undefined) return;
  if (mode !== 'ANY' && mode !== 'VALIDATED') {
    throw new GoogleInvalid('* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names can only be set when mode is ANY.');
  }
  for (const name of array(config.allowedFunctionNames, 'allowedFunctionNames')) {
    if (!functions.includes(name as string)) {
      throw new GoogleInvalid(`* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: function ${JSON.stringify(name)} is not declared.`);
    }
  }
}

function checkGenerationConfig(value: unknown): void {
  const config = object(value, 'generationConfig');
  unknownFields(config, GENERATION_FIELDS, 'generation_config');
  const integer = (key: string, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = config[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max)) throw invalidValue(`generation_config.${key}`, v);
  };
  const number = (key: string, min: number, max: number) => {
    const v = config[key];
    if (v !== undefined && (typeof v !== 'number' || v < min || v > max)) throw invalidValue(`generation_config.${key}`, v);
  };
  integer('maxOutputTokens', 1);
  integer('candidateCount', 1, 8);
  integer('topK', 1);
  integer('seed', -(2 ** 31), 2 ** 31 - 1);
  integer('logprobs', 0, 20);
  number('temperature', 0, 2);
  number('topP', 0, 1);
  number('presencePenalty', -2, 2);
  number('frequencyPenalty', -2, 2);
  if (config.stopSequences !== undefined) {
    const stops = array(config.stopSequences, 'generation_config.stop_sequences');
    if (stops.length > 5 || stops.some((stop) => typeof stop !== 'string')) throw invalidValue('generation_config.stop_sequences', stops);
  }
  if (config.responseMimeType !== undefined && !MIME_TYPES.has(config.responseMimeType as string)) {
    throw new GoogleInvalid(`* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`text/x.enum\`.`);
  }
  if (config.responseSchema !== undefined) {
    if (config.responseMimeType !== 'application/json' && config.responseMimeType !== 'text/x.enum') {
      throw new GoogleInvalid('* GenerateContentRequest.generation_config.response_schema: response_mime_type must be application/json or text/x.enum when response_schema is set.');
    }
    checkSchema(config.responseSchema, 'generation_config.response_schema');
  }
  if (config.responseLogprobs !== undefined && typeof config.responseLogprobs !== 'boolean') throw invalidValue('generation_config.response_logprobs', config.responseLogprobs);
  if (config.logprobs !== undefined && config.responseLogprobs !== true) {
    throw new GoogleInvalid('* GenerateContentRequest.generation_config.logprobs: logprobs is only allowed when response_logprobs is true.');
  }
  if (config.thinkingConfig !== undefined) {
    const thinking = object(config.thinkingConfig, 'generation_config.thinking_config');
    unknownFields(thinking, new Set(['thinkingBudget', 'thinkingLevel', 'includeThoughts']), 'generation_config.thinking_config');
    if (thinking.thinkingLevel !== undefined && !['minimal', 'low', 'medium', 'high', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH'].includes(thinking.thinkingLevel as string)) {
      throw invalidValue('generation_config.thinking_config.thinking_level', thinking.thinkingLevel);
    }
    if (thinking.thinkingBudget !== undefined && !Number.isInteger(thinking.thinkingBudget)) throw invalidValue('generation_config.thinking_config.thinking_budget', thinking.thinkingBudget);
  }
}

// ---------------------------------------------------------------- embeddings

/** An EmbedContentRequest (alone, or one of a batch) → the text it embeds. */
export function checkEmbedContent(value: unknown, where: string, batchModel: string | null): string {
  const request = object(value, where);
  unknownFields(request, new Set(['model', 'content', 'taskType', 'title', 'outputDimensionality']), where);
  if (batchModel !== null && request.model !== batchModel) {
    throw new GoogleInvalid(`* BatchEmbedContentsRequest.${where}.model: the model (${String(request.model)}) does not match the model in the URL (${batchModel}).`);
  }
  const content = object(request.content, `${where}.content`);
  const parts = array(content.parts, `${where}.content.parts`);
  if (parts.length === 0) throw new GoogleInvalid(`* ${where}.content.parts: contents.parts must not be empty.`);
  const texts = parts.map((part, index) => {
    const text = object(part, `${where}.content.parts[${index}]`).text;
    if (typeof text !== 'string') throw new GoogleInvalid(`* ${where}.content.parts[${index}]: only text can be embedded by this model.`);
    return text;
  });
  if (request.outputDimensionality !== undefined && (!Number.isInteger(request.outputDimensionality) || (request.outputDimensionality as number) < 1)) {
    throw invalidValue(`${where}.output_dimensionality`, request.outputDimensionality);
  }
  return texts.join(' ');
}

/** Vertex's `:predict` for embedding models → the texts. */
export function checkPredict(value: unknown): { texts: string[]; dimensions: number | undefined } {
  const request = object(value, 'PredictRequest');
  unknownFields(request, new Set(['instances', 'parameters']), '');
  const instances = array(request.instances, 'instances');
  if (instances.length === 0) throw new GoogleInvalid('Instances must not be empty.');
  const texts = instances.map((instance, index) => {
    const entry = object(instance, `instances[${index}]`);
    unknownFields(entry, new Set(['content', 'task_type', 'title']), `instances[${index}]`);
    if (typeof entry.content !== 'string') throw new GoogleInvalid(`instances[${index}].content: a string is required.`);
    return entry.content;
  });
  const parameters = request.parameters === undefined ? {} : object(request.parameters, 'parameters');
  unknownFields(parameters, new Set(['outputDimensionality', 'autoTruncate']), 'parameters');
  const dimensions = parameters.outputDimensionality;
  if (dimensions !== undefined && !Number.isInteger(dimensions)) throw invalidValue('parameters.outputDimensionality', dimensions);
  return { texts, dimensions: dimensions as number | undefined };
}

// ---------------------------------------------------------------- helpers

export function object(value: unknown, where: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GoogleInvalid(`Invalid JSON payload received. Expected an object at '${where}', got ${JSON.stringify(value) ?? 'nothing'}.`);
  }
  return value as Json;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new GoogleInvalid(`Invalid JSON payload received. Expected an array at '${where}', got ${JSON.stringify(value) ?? 'nothing'}.`);
  return value;
}

function unknownFields(value: Json, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) if (!known.has(key)) throw unknownName(key, where);
}

function unknownName(key: string, where: string): GoogleInvalid {
  return new GoogleInvalid(`Invalid JSON payload received. Unknown name "${key}"${where === '' ? '' : ` at '${where}'`}: Cannot find field.`);
}

function invalidValue(where: string, value: unknown): GoogleInvalid {
  return new GoogleInvalid(`Invalid value at '${where}', ${JSON.stringify(value)}`);
}
