import type { GoogleModelApi } from '../gemini/adapter.js';
import type { UpstreamCall } from '../types.js';
import type { ServiceAccountTokens } from './auth.js';
import { mergeRecords } from '../../core/merge.js';

/** Vertex AI's endpoint for a location: regional hosts, and one host without a prefix for `global`. */
export function vertexOrigin(location: string): string {
  return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
}

/** `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}`, the methods follow after `:`. */
export function vertexModelPath(project: string, location: string, publisher: string, model: string): string {
  return `/v1/projects/${project}/locations/${location}/publishers/${publisher}/models/${model}`;
}

/**
 * Vertex AI auth: every request carries `Authorization: Bearer <access token>` of the deployment's
 * service account (fetched and refreshed by ServiceAccountTokens). Auth lives here and in auth.ts only.
 */
export class VertexAuth {
  private readonly baseHeaders: Readonly<Record<string, string>>;

  constructor(
    readonly tokens: ServiceAccountTokens,
    extraHeaders: Readonly<Record<string, string>> = {},
  ) {
    this.baseHeaders = { ...extraHeaders, 'content-type': 'application/json' };
  }

  async headers(call: UpstreamCall): Promise<Record<string, string>> {
    const token = await this.tokens.token(call);
    return mergeRecords(call.forwardHeaders, this.baseHeaders, { authorization: `Bearer ${token}` });
  }
}

/** A Gemini model on Vertex AI (publisher google): GenerateContent, and `:predict` for embedding models. */
export class VertexGoogleApi implements GoogleModelApi {
  readonly generatePath: string;
  readonly streamPath: string;
  readonly predictPath: string;

  constructor(
    readonly model: string,
    modelPath: string,
    private readonly auth: VertexAuth,
  ) {
    this.generatePath = `${modelPath}:generateContent`;
    this.streamPath = `${modelPath}:streamGenerateContent?alt=sse`;
    this.predictPath = `${modelPath}:predict`;
  }

  headers(call: UpstreamCall): Promise<Record<string, string>> {
    return this.auth.headers(call);
  }
}
