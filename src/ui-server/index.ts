import { GatewayError } from '../core/errors.js';
import type { Stage } from '../server/lifecycle.js';
import { sessionEndpoint } from './session-routes.js';
import { DEFAULT_UI_DIR, serveStatic } from './static-files.js';

export { identifyAdminCaller } from './sessions.js';

/** Everything under /ui: the session endpoint, and the built dashboard's files. */
export const serveUi: Stage = (ctx) => {
  const ui = ctx.runtime.config.ui;
  if (!ui.enabled) throw new GatewayError('route_not_found', { message: 'The dashboard is turned off (ui.enabled: false).' });
  const url = ctx.req.url ?? '/ui';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === '/ui/session') return sessionEndpoint(ctx);
  const method = ctx.req.method;
  if (method !== 'GET' && method !== 'HEAD') {
    throw new GatewayError('method_not_allowed', { message: 'The dashboard’s pages are read with GET.', headers: { allow: 'GET, HEAD' } });
  }
  return serveStatic(ctx, ui.dist_dir ?? DEFAULT_UI_DIR, path);
};
