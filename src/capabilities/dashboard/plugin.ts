/**
 * The web dashboard:
 *   GET /dashboard, /dashboard/          the page (token gate: 401 + the sign-in screen for a
 *                                        non-loopback caller without the proxy token)
 *   GET /dashboard/assets/<file>         its bundled scripts, styles and icon (static code, no data)
 * Every figure the page shows is fetched by the browser from the gated endpoints (`/stats`,
 * `/stats-history`, `/health`, `/metrics/*`), with the proxy token the user typed in when
 * one is required; nothing is rendered on the server and nothing is loaded from elsewhere.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { definePlugin, type Plugin } from '../../core/plugin.js';
import { sendJson } from '../../core/http.js';
import { passesGate } from '../../core/router.js';
import { type Asset, loadDashboardAssets } from './assets.js';

/** Scripts, styles, images and connections: this origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy': DASHBOARD_CSP,
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function sendAsset(req: IncomingMessage, res: ServerResponse, status: number, asset: Asset, headers: OutgoingHttpHeaders): void {
  const base: OutgoingHttpHeaders = { 'content-type': asset.type, etag: asset.etag, vary: 'accept-encoding', 'x-content-type-options': 'nosniff', ...headers };
  if (status === 200 && req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, base);
    res.end();
    return;
  }
  const zipped = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? asset.gzip : null;
  const body = zipped ?? asset.body;
  res.writeHead(status, { ...base, ...(zipped ? { 'content-encoding': 'gzip' } : {}), 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The dashboard capability; `assetDirs` overrides where the built files are looked for (tests). */
export const createDashboardPlugin = (assetDirs?: readonly URL[]): Plugin =>
  definePlugin({
  name: 'dashboard',
  async setup({ app }) {
    if (!app.config.dashboard) return;
    const assets = await loadDashboardAssets(assetDirs);
    if (!assets) app.log.warn('dashboard assets not found (dist/dashboard/assets): run `npm run build`; /dashboard answers 503');
    const notBuilt = (res: ServerResponse) =>
      sendJson(res, 503, { error: { type: 'dashboard_not_built', message: 'The dashboard was not built: run `npm run build`.' } });

    const page = ({ req, res }: { req: IncomingMessage; res: ServerResponse }) => {
      if (!assets) return notBuilt(res);
      // A browser cannot send the token header when navigating, so a caller without it gets the
      // page with status 401: it holds no data and opens on the sign-in screen.
      sendAsset(req, res, passesGate(req, app.config) ? 200 : 401, assets.page, PAGE_HEADERS);
    };
    app.router.add(['GET', 'HEAD'], '/dashboard', page, 'open');
    app.router.add(['GET', 'HEAD'], '/dashboard/', page, 'open');
    app.router.add(['GET', 'HEAD'], '/dashboard/assets/:file', ({ req, res, params }) => {
      if (!assets) return notBuilt(res);
      const asset = assets.files.get(params.file ?? '');
      if (!asset) return sendJson(res, 404, { error: { type: 'not_found', message: 'No such dashboard asset.' } });
      sendAsset(req, res, 200, asset, { 'cache-control': 'public, max-age=31536000, immutable' });
    }, 'open');
  },
});

export const dashboardPlugin = createDashboardPlugin();
