import type { UpstreamCall } from '../types.js';
import type { GoogleModelApi } from './adapter.js';
import type { GeminiDeployment } from './config.js';
import { mergeRecords } from '../../core/merge.js';

/** The deployment's key: its own `api_key`, else GEMINI_API_KEY, else GOOGLE_API_KEY (as Google's SDKs look). */
export function geminiApiKey(config: GeminiDeployment, env: NodeJS.ProcessEnv = process.env): string {
  return config.api_key || env.GEMINI_API_KEY || env.GOOGLE_API_KEY || '';
}

/** Google's resource name of the model: `models/<id>` unless the config names `models/…` or `tunedModels/…`. */
export function geminiModelName(model: string): string {
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
}

/**
 * The Gemini API (Google AI Studio): `POST {base}/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:embedContent`, `:batchEmbedContents`, authenticated by
 * the `x-goog-api-key` header (never the `?key=` query, which ends up in access logs).
 */
export class GeminiApi implements GoogleModelApi {
  readonly modelName: string;
  readonly generatePath: string;
  readonly streamPath: string;
  readonly embedPath: string;
  readonly batchEmbedPath: string;
  private readonly baseHeaders: Readonly<Record<string, string>>;

  constructor(
    readonly model: string,
    apiKey: string,
    extraHeaders: Readonly<Record<string, string>> = {},
  ) {
    this.modelName = geminiModelName(model);
    this.generatePath = `/${this.modelName}:generateContent`;
    this.streamPath = `/${this.modelName}:streamGenerateContent?alt=sse`;
    this.embedPath = `/${this.modelName}:embedContent`;
    this.batchEmbedPath = `/${this.modelName}:batchEmbedContents`;
    this.baseHeaders = { ...extraHeaders, 'content-type': 'application/json', 'x-goog-api-key': apiKey };
  }

  async headers(call: UpstreamCall): Promise<Record<string, string>> {
    return mergeRecords(call.forwardHeaders, this.baseHeaders);
  }
}
