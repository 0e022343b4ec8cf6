import type { Operation } from '../protocols/openai/operations.js';
import { chatOperation, completionsOperation, embeddingsOperation } from '../protocols/openai/operations.js';
import type { Stage } from './lifecycle.js';
import type { GatewayError } from '../core/errors.js';
import { openAiErrorBody } from '../protocols/openai/errors.js';
import { anthropicErrorBody } from '../protocols/anthropic/errors.js';
import { countTokens, parseCountTokensBody } from '../protocols/anthropic/count-tokens.js';
import { messagesOperation, respondAnthropic } from '../protocols/anthropic/operations.js';
import { callUpstream } from './call-upstream.js';
import { authorizeModel, identify, reserveLimits } from '../guard/stages.js';
import { dispatchAdmin, serveAdminOpenApi } from '../admin/router.js';
import { guardPrivacy, restorePrivacy } from '../guard/pii/stages.js';
import { captureBodies } from '../audit/body-log.js';
import { identifyAdminCaller, serveUi } from '../ui-server/index.js';
import {
  listModels,
  parseBody,
  readJsonBody,
  resolveAlias,
  respond,
  retrieveModel,
} from './stages.js';

/** An API route: its method, the metrics/log name, its stages and the error shape of its protocol. */
export interface ApiRoute {
  /** '*': the route's own stages tell methods apart. */
  readonly method: 'GET' | 'POST' | '*';
  readonly name: string;
  readonly stages: readonly Stage[];
  /** Serialises an error in the shape the route's clients expect. */
  readonly errorBody: (error: GatewayError) => string;
}

/**
 * The way of every model call: the same stages for chat, completions and embeddings. Another
 * ingress protocol brings its own last stage, which answers in its shape (`respond` still).
 */
export function modelCallStages(operation: Operation, respondStage: Stage = respond): readonly Stage[] {
  return [
    identify,
    readJsonBody,
    parseBody(operation),
    resolveAlias,
    authorizeModel,
    reserveLimits,
    guardPrivacy,
    callUpstream(operation),
    restorePrivacy,
    captureBodies,
    respondStage,
  ];
}

/** The path table of OpenAI's API; exact paths, plus the one prefix route for a single model. */
export const API_ROUTES: ReadonlyMap<string, ApiRoute> = new Map([
  ['/v1/chat/completions', { method: 'POST', name: 'chat', stages: modelCallStages(chatOperation), errorBody: openAiErrorBody }],
  ['/v1/completions', { method: 'POST', name: 'completions', stages: modelCallStages(completionsOperation), errorBody: openAiErrorBody }],
  ['/v1/embeddings', { method: 'POST', name: 'embeddings', stages: modelCallStages(embeddingsOperation), errorBody: openAiErrorBody }],
  ['/v1/models', { method: 'GET', name: 'models', stages: [identify, listModels], errorBody: openAiErrorBody }],
  ['/admin/openapi.json', { method: 'GET', name: 'admin', stages: [serveAdminOpenApi], errorBody: openAiErrorBody }],
  // Anthropic's Messages API, answered through the canonical model by any deployment.
  ['/v1/messages', { method: 'POST', name: 'messages', stages: modelCallStages(messagesOperation, respondAnthropic), errorBody: anthropicErrorBody }],
  [
    '/v1/messages/count_tokens',
    { method: 'POST', name: 'count_tokens', stages: [identify, readJsonBody, parseCountTokensBody, resolveAlias, authorizeModel, countTokens], errorBody: anthropicErrorBody },
  ],
]);

export const MODEL_ROUTE: ApiRoute = { method: 'GET', name: 'models', stages: [identify, retrieveModel], errorBody: openAiErrorBody };
export const MODEL_ROUTE_PREFIX = '/v1/models/';

/** Everything under /admin/: keys, teams, usage, and the OpenAPI description. The dashboard's session cookie works here too. */
export const ADMIN_ROUTE: ApiRoute = { method: '*', name: 'admin', stages: [identifyAdminCaller, dispatchAdmin], errorBody: openAiErrorBody };
export const ADMIN_ROUTE_PREFIX = '/admin/';

/** The web dashboard: /ui, its files under /ui/, and its sign-in at /ui/session (src/ui-server). */
export const UI_ROUTE: ApiRoute = { method: '*', name: 'ui', stages: [serveUi], errorBody: openAiErrorBody };
export const UI_ROUTE_PREFIX = '/ui/';

/** The route of a path that no exact entry of API_ROUTES names: the prefix routes. */
export function prefixRoute(path: string): ApiRoute | undefined {
  if (path.startsWith(MODEL_ROUTE_PREFIX)) return MODEL_ROUTE;
  if (path.startsWith(ADMIN_ROUTE_PREFIX)) return ADMIN_ROUTE;
  if (path === '/ui' || path.startsWith(UI_ROUTE_PREFIX)) return UI_ROUTE;
  return undefined;
}
