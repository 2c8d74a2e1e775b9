/**
 * `/`: `GET /` sends a browser to the dashboard (302 to `/dashboard`), or, with the dashboard
 * off, answers a small JSON description; `HEAD /` answers 200 (Claude Code sends a `HEAD /`
 * preflight to its base URL before the first request). Open: it tells no more than `/health`.
 */
import { definePlugin } from '../../core/plugin.js';
import { sendJson } from '../../core/http.js';

export const rootPlugin = definePlugin({
  name: 'root',
  setup({ app }) {
    app.router.add(['GET', 'HEAD'], '/', ({ req, res }) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
        res.end();
        return;
      }
      if (app.config.dashboard) {
        res.writeHead(302, { location: '/dashboard', 'content-length': 0, 'cache-control': 'no-cache' });
        res.end();
        return;
      }
      sendJson(res, 200, {
        service: 'headroom-proxy',
        name: 'headroom-ts',
        version: app.version,
        status: 'ok',
        dashboard: null,
        endpoints: { health: '/health', stats: '/stats', metrics: '/metrics', anthropic: '/v1/messages', openai: '/v1/chat/completions' },
      }, { 'cache-control': 'no-cache' });
    }, 'open');
  },
});
