import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGeminiEmulator, type GeminiEmulator } from '../../../test/emulators/gemini.js';
import { timeoutsSchema } from '../../config/deployment-base.js';
import { GatewayError } from '../../core/errors.js';
import type { UpstreamCall } from '../types.js';
import { vertexModelPath, vertexOrigin } from './api.js';
import { GOOGLE_TOKEN_URI, loadServiceAccount, ServiceAccountTokens, type ServiceAccount } from './auth.js';
import { vertexDeploymentSchema } from './config.js';
import { vertexProvider } from './index.js';

const EMAIL = 'auth-test@emu-project.iam.gserviceaccount.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const timeouts = timeoutsSchema.parse({ connect_ms: 1_000, first_byte_ms: 2_000 });
const dir = mkdtempSync(join(tmpdir(), 'stellwerk-vertex-auth-'));

function keyJson(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'service_account', project_id: 'emu-project', private_key_id: 'k1', private_key: PEM, client_email: EMAIL, ...fields };
}

function call(signal = new AbortController().signal): UpstreamCall {
  return { signal, requestId: 'auth-test', forwardHeaders: {} };
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('service account keys', () => {
  test('from credentials_json (text or object), credentials_file, or GOOGLE_APPLICATION_CREDENTIALS', () => {
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(keyJson({ token_uri: 'https://oauth.example/token' })));
    const fromText = loadServiceAccount({ credentials_json: JSON.stringify(keyJson()) }, {});
    assert.ok(typeof fromText !== 'string');
    assert.equal(fromText.clientEmail, EMAIL);
    assert.equal(fromText.tokenUri, GOOGLE_TOKEN_URI);
    assert.equal(fromText.projectId, 'emu-project');
    assert.equal(fromText.privateKeyId, 'k1');
    assert.ok(typeof loadServiceAccount({ credentials_json: keyJson() }, {}) !== 'string');
    const fromFile = loadServiceAccount({ credentials_file: file }, {});
    assert.ok(typeof fromFile !== 'string' && fromFile.tokenUri === 'https://oauth.example/token');
    assert.ok(typeof loadServiceAccount({}, { GOOGLE_APPLICATION_CREDENTIALS: file }) !== 'string');
  });

  test('problems are reasons that name the source and never the key', () => {
    const reasons = [
      loadServiceAccount({}, {}),
      loadServiceAccount({ credentials_file: join(dir, 'missing.json') }, {}),
      loadServiceAccount({ credentials_json: '{not json' }, {}),
      loadServiceAccount({ credentials_json: keyJson({ type: 'authorized_user' }) }, {}),
      loadServiceAccount({ credentials_json: keyJson({ client_email: undefined }) }, {}),
      loadServiceAccount({ credentials_json: keyJson({ private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }) }, {}),
      loadServiceAccount({ credentials_json: keyJson({ token_uri: 'file:///etc/passwd' }) }, {}),
    ];
    assert.deepEqual(reasons, [
      'no credentials: set credentials_file, credentials_json or GOOGLE_APPLICATION_CREDENTIALS',
      `credentials_file ${join(dir, 'missing.json')} cannot be read (ENOENT)`,
      'credentials_json is not JSON',
      'credentials_json holds credentials of type "authorized_user"; only service account keys (type "service_account") are supported',
      'credentials_json has no client_email',
      'credentials_json has a private_key that is not a valid PEM key',
      'credentials_json has a token_uri that is not an http(s) URL',
    ]);
  });

  test('a vertex deployment without credentials or project is unusable, saying why; location is required', () => {
    const parse = (fields: Record<string, unknown>) => vertexDeploymentSchema.parse({ provider: 'vertex', location: 'europe-west4', model: 'gemini-2.5-flash', ...fields });
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      assert.match(vertexProvider.unusableReason(parse({})) ?? '', /no credentials/);
    } finally {
      if (saved !== undefined) process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
    assert.equal(vertexProvider.unusableReason(parse({ credentials_json: keyJson({ project_id: undefined }) })), 'no project: set project (the service account key names none)');
    assert.equal(vertexProvider.unusableReason(parse({ credentials_json: keyJson({ project_id: undefined }), project: 'my-project' })), null);
    const missing = vertexDeploymentSchema.safeParse({ provider: 'vertex', model: 'gemini-2.5-flash' });
    assert.equal(missing.success, false);
    assert.deepEqual(missing.error!.issues.map((issue) => issue.path.join('.')), ['location']);
    assert.equal(vertexDeploymentSchema.safeParse({ provider: 'vertex', model: 'x', location: 'us-central1', publisher: 'meta' }).success, false);
  });

  test('the endpoint follows the location; global has a host of its own', () => {
    assert.equal(vertexOrigin('europe-west4'), 'https://europe-west4-aiplatform.googleapis.com');
    assert.equal(vertexOrigin('global'), 'https://aiplatform.googleapis.com');
    assert.equal(vertexModelPath('p', 'global', 'anthropic', 'claude-x@1'), '/v1/projects/p/locations/global/publishers/anthropic/models/claude-x@1');
  });

  test('the field table follows the publisher', () => {
    const google = vertexProvider.chatFieldsFor(vertexDeploymentSchema.parse({ provider: 'vertex', location: 'global', model: 'gemini-2.5-flash' }));
    const claude = vertexProvider.chatFieldsFor(vertexDeploymentSchema.parse({ provider: 'vertex', location: 'global', model: 'claude-sonnet-4-5', publisher: 'anthropic' }));
    assert.equal(google.n, 'mapped');
    assert.equal(google.frequency_penalty, 'mapped');
    assert.notEqual(claude.frequency_penalty, 'mapped');
  });
});

describe('access tokens from the token endpoint', () => {
  let emulator: GeminiEmulator;
  let account: ServiceAccount;

  before(async () => {
    emulator = await startGeminiEmulator({ serviceAccount: { clientEmail: EMAIL, publicKey }, tokenLifetimeS: 2 });
    const loaded = loadServiceAccount({ credentials_json: keyJson({ token_uri: emulator.tokenUri }) }, {});
    assert.ok(typeof loaded !== 'string');
    account = loaded;
  });
  after(() => emulator.close());

  /** A clock that stands still unless a test moves it, so that a busy machine cannot make a token expire early. */
  function clock(): { now: () => number; advance: (ms: number) => void } {
    let time = Date.now();
    return { now: () => time, advance: (ms) => void (time += ms) };
  }

  test('one exchange serves many waiting requests, and the token is cached until shortly before it expires', async () => {
    const time = clock();
    const tokens = new ServiceAccountTokens(account, { timeouts, now: time.now });
    try {
      const before = emulator.grants.length;
      const all = await Promise.all(Array.from({ length: 8 }, () => tokens.token(call())));
      assert.equal(emulator.grants.length, before + 1, 'a single exchange');
      assert.ok(all.every((token) => token === all[0]));
      assert.deepEqual(tokens.current(), [all[0]]);
      assert.equal(await tokens.token(call()), all[0], 'cached');
      const claims = emulator.grants.at(-1)!.claims;
      assert.equal(claims.iss, EMAIL);
      assert.equal(claims.aud, emulator.tokenUri);
      // A 2 s token is refreshed after half its life.
      time.advance(1_100);
      const renewed = await tokens.token(call());
      assert.notEqual(renewed, all[0]);
      assert.equal(emulator.grants.length, before + 2);
    } finally {
      await tokens.close();
    }
  });

  test('a refused assertion is a 502 naming the account and Google\'s reason, never the key', async () => {
    const forged = { ...account, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    const tokens = new ServiceAccountTokens(forged, { timeouts });
    try {
      await assert.rejects(tokens.token(call()), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'upstream_error');
        assert.equal(error.status, 502);
        assert.equal(error.message, `The OAuth token endpoint refused the service account ${EMAIL} (HTTP 400: invalid_grant: Invalid JWT Signature.).`);
        assert.ok(!error.message.includes('PRIVATE KEY'));
        return true;
      });
    } finally {
      await tokens.close();
    }
  });

  test('a failed refresh while the old token lives keeps the old token; an unreachable endpoint without one fails', async () => {
    const time = clock();
    const tokens = new ServiceAccountTokens(account, { timeouts, now: time.now });
    const dead = new ServiceAccountTokens({ ...account, tokenUri: 'http://127.0.0.1:9/token' }, { timeouts });
    try {
      const first = await tokens.token(call());
      time.advance(1_100);
      (tokens as unknown as { account: ServiceAccount }).account = { ...account, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
      assert.equal(await tokens.token(call()), first);
      await assert.rejects(dead.token(call()), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_unreachable');
    } finally {
      await tokens.close();
      await dead.close();
    }
  });

  test('a request that is aborted while waiting for the token stops waiting', async () => {
    const tokens = new ServiceAccountTokens(account, { timeouts });
    try {
      const controller = new AbortController();
      const waiting = tokens.token(call(controller.signal));
      controller.abort();
      await assert.rejects(waiting, (error: unknown) => error instanceof GatewayError && error.code === 'client_closed_request');
    } finally {
      await tokens.close();
    }
  });
});
