import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatField, FieldHandling } from '../../core/types.js';
import { OPENAI_WIRE_CHAT_FIELDS } from '../../providers/openai-compatible/fields.js';
import { Deployment } from '../../routing/deployment.js';
import type { DeploymentState } from '../../routing/deployment-state.js';
import type { RequestContext } from '../../server/request-context.js';
import { ResponseHeaders } from '../../server/response-headers.js';
import { chatOperation } from './operations.js';

function deploymentWith(overrides: Partial<Record<ChatField, FieldHandling>>): Deployment {
  const fields = { ...OPENAI_WIRE_CHAT_FIELDS, ...overrides };
  const timeouts = { connect_ms: 1, first_byte_ms: 1, idle_ms: 1, total_ms: 1 };
  const traits = { weight: 1, priority: 0, region: null, tags: [], maxConcurrency: null, price: null };
  return new Deployment('d', 'a', 'test', 'm', { close: async () => {} } as never, timeouts, fields, traits, {} as DeploymentState);
}

function contextWith(body: Record<string, unknown>) {
  const headers = new ResponseHeaders();
  const ctx = { body, headers } as unknown as RequestContext;
  return { ctx, headers };
}

test('a field the provider rejects is a 400 naming it, when present', () => {
  const deployment = deploymentWith({ logit_bias: 'rejected' });
  const { ctx } = contextWith({ model: 'a', messages: [], logit_bias: { '1': 2 } });
  assert.throws(() => chatOperation.fitTo!(deployment, ctx), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.param, 'logit_bias');
    return true;
  });
  assert.doesNotThrow(() => chatOperation.fitTo!(deployment, contextWith({ model: 'a', messages: [], logit_bias: null }).ctx));
});

test('fields the provider ignores are named in x-stellwerk-ignored-params', () => {
  const deployment = deploymentWith({ seed: 'ignored', top_p: 'ignored' });
  const { ctx, headers } = contextWith({ model: 'a', messages: [], seed: 1, top_p: 0.5, temperature: 1 });
  chatOperation.fitTo!(deployment, ctx);
  assert.equal(headers.get('x-stellwerk-ignored-params'), 'seed,top_p');
  const quiet = contextWith({ model: 'a', messages: [], temperature: 1 });
  chatOperation.fitTo!(deployment, quiet.ctx);
  assert.equal(quiet.headers.get('x-stellwerk-ignored-params'), undefined);
});
