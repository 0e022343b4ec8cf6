import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatField, ChatRequest } from '../../core/types.js';
import type { Deployment } from '../../routing/deployment.js';
import { API_ROUTES } from '../../server/endpoints.js';
import type { RequestContext } from '../../server/request-context.js';
import { ResponseHeaders } from '../../server/response-headers.js';
import { anthropicErrorBody } from './errors.js';
import { messagesOperation } from './operations.js';

/** The parts of a deployment the field checks read. */
function deployment(provider: string, rejected: ChatField[] = [], ignored: ChatField[] = []): Deployment {
  return { name: 'd', provider, rejectedChatFields: rejected, ignoredChatFields: ignored } as unknown as Deployment;
}

/** A context after parse, with the answer's headers. */
function parsed(body: Record<string, unknown>) {
  const headers = new ResponseHeaders();
  const ctx = { body, headers } as unknown as RequestContext;
  messagesOperation.parse(ctx);
  return { ctx, headers };
}

const minimal = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };

test('/v1/messages runs the stages of a chat call, answers in Anthropic\'s shape', () => {
  const messages = API_ROUTES.get('/v1/messages')!;
  const chat = API_ROUTES.get('/v1/chat/completions')!;
  assert.deepEqual(
    messages.stages.map((stage) => stage.name),
    chat.stages.map((stage) => stage.name),
  );
  assert.notEqual(messages.stages.at(-1), chat.stages.at(-1));
  assert.equal(messages.errorBody, anthropicErrorBody);
  assert.equal(API_ROUTES.get('/v1/messages/count_tokens')!.errorBody, anthropicErrorBody);
});

test('parse leaves the canonical request and what the answer needs on the context', () => {
  const { ctx } = parsed({ ...minimal, stream: true, stop_sequences: ['END'] });
  assert.deepEqual(ctx.body, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10, stop: ['END'], stream: true });
  assert.equal(ctx.model, 'claude');
  assert.equal(ctx.stream, true);
  assert.deepEqual(ctx.anthropic, { stopSequences: ['END'], ignored: [], topK: undefined });
});

test('a field the deployment refuses is named as the client sent it', () => {
  const { ctx } = parsed({ ...minimal, metadata: { user_id: 'u' } });
  assert.throws(
    () => messagesOperation.fitTo!(deployment('x', ['user']), ctx),
    (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === 'metadata.user_id' && error.message.includes('"metadata.user_id"'),
  );
});

test('ignored fields: the deployment\'s (renamed) and the ingress\'s, fresh for each deployment tried', () => {
  const { ctx, headers } = parsed({ ...minimal, stop_sequences: ['x'], temperature: 1, thinking: { type: 'enabled', budget_tokens: 1024 }, top_k: 3 });
  messagesOperation.fitTo!(deployment('simulator', [], ['temperature', 'stop']), ctx);
  assert.equal(headers.get('x-stellwerk-ignored-params'), 'thinking,temperature,stop_sequences,top_k');
  assert.equal((ctx.body as ChatRequest).top_k, undefined);
  messagesOperation.fitTo!(deployment('openai-compatible'), ctx);
  assert.equal(headers.get('x-stellwerk-ignored-params'), 'thinking');
  assert.equal((ctx.body as ChatRequest).top_k, 3);
});
