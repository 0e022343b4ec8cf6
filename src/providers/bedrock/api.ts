import type { SignatureV4 } from '@smithy/signature-v4';
import type { BedrockDeployment } from './config.js';

/**
 * Where Bedrock Runtime lives and how a request to it is signed (AWS Signature Version 4, service
 * `bedrock`). Auth lives here and nowhere else.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The deployment's own keys, else the standard AWS environment variables; null when neither is complete. */
export function resolveCredentials(config: BedrockDeployment, env: Environment = process.env): AwsCredentials | null {
  if (config.access_key_id !== undefined && config.secret_access_key !== undefined) {
    return withToken(config.access_key_id, config.secret_access_key, config.session_token);
  }
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id || !secret) return null;
  return withToken(id, secret, env.AWS_SESSION_TOKEN || undefined);
}

function withToken(accessKeyId: string, secretAccessKey: string, sessionToken: string | undefined): AwsCredentials {
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

export function resolveRegion(config: BedrockDeployment, env: Environment = process.env): string | null {
  return config.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || null;
}

/** What makes a deployment unusable as configured, in words an operator can act on; null when it can work. */
export function missingSettings(config: BedrockDeployment, env: Environment = process.env): string | null {
  const missing: string[] = [];
  if (resolveCredentials(config, env) === null) {
    missing.push('no AWS credentials: set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  if (resolveRegion(config, env) === null) missing.push('no AWS region: set region, or AWS_REGION / AWS_DEFAULT_REGION');
  return missing.length === 0 ? null : missing.join('; ');
}

export function endpointUrl(config: BedrockDeployment, region: string): string {
  return config.endpoint ?? `https://bedrock-runtime.${region}.amazonaws.com`;
}

/**
 * A model id as one path segment, encoded as the AWS SDKs encode it: RFC 3986 (so an ARN's `:`
 * and `/` become %3A and %2F) plus `!'()*`, which encodeURIComponent leaves alone.
 */
export function encodeModelId(modelId: string): string {
  return encodeURIComponent(modelId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const PATHS = {
  converse: (modelId: string) => `/model/${encodeModelId(modelId)}/converse`,
  converseStream: (modelId: string) => `/model/${encodeModelId(modelId)}/converse-stream`,
  invoke: (modelId: string) => `/model/${encodeModelId(modelId)}/invoke`,
} as const;

let signerLibraries: Promise<[typeof import('@smithy/signature-v4'), typeof import('@smithy/hash-node')]> | undefined;

/**
 * A SigV4 signer for service `bedrock`. The AWS libraries load on first use, so a gateway without
 * Bedrock deployments (and every CLI command) does not pay their start-up time.
 */
export async function createSigner(credentials: AwsCredentials, region: string): Promise<SignatureV4> {
  signerLibraries ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  const [{ SignatureV4: Signer }, { Hash }] = await signerLibraries;
  return new Signer({ service: 'bedrock', region, credentials, sha256: Hash.bind(null, 'sha256') });
}

/** One HTTP request as it goes on the wire: `path` already percent-encoded, exactly as sent. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The request's headers with `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` and
 * `authorization` added. Every header given is signed. The signer escapes the already-encoded
 * path once more for the canonical request, as AWS does for every service but S3, so the
 * signature covers the very path that is sent.
 */
export async function signRequest(signer: SignatureV4, request: SignableRequest, signingDate: Date): Promise<Record<string, string>> {
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      port: request.url.port === '' ? undefined : Number(request.url.port),
      path: request.path,
      query: {},
      headers: { ...request.headers },
      body: request.body,
    },
    { signingDate },
  );
  return signed.headers;
}

/** Signs requests to one Bedrock Runtime endpoint with one deployment's credentials. */
export class BedrockApi {
  readonly baseUrl: string;
  /** Values scrubbed from anything bound for a client or a log. */
  readonly secrets: readonly string[];
  private readonly url: URL;
  private readonly basePath: string;
  private readonly signer: Promise<SignatureV4>;

  constructor(endpoint: string, region: string, credentials: AwsCredentials) {
    this.baseUrl = endpoint;
    this.url = new URL(endpoint);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.signer = createSigner(credentials, region);
    // A failure to load surfaces on the first call; until then nobody awaits this promise.
    this.signer.catch(() => undefined);
    this.secrets = [credentials.secretAccessKey, credentials.sessionToken ?? ''].filter((secret) => secret.length > 0);
  }

  /**
   * Signed headers for a POST of a JSON body to `path` (below the endpoint). Converse takes no
   * `accept` (the AWS SDKs send none); InvokeModel names the answer's type with it.
   */
  async signedHeaders(path: string, body: string, accept: string | null, now: Date = new Date()): Promise<Record<string, string>> {
    const headers: Record<string, string> = { host: this.url.host, 'content-type': 'application/json' };
    if (accept !== null) headers.accept = accept;
    return signRequest(await this.signer, { method: 'POST', url: this.url, path: this.basePath + path, headers, body }, now);
  }
}
