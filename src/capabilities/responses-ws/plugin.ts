/**
 * The Responses WebSocket capability: `GET /v1/responses` with `Upgrade: websocket` (what
 * current Codex CLI versions open), relayed to the OpenAI upstream's WebSocket on the same
 * path, with the newest input items of every `response.create` compressed and one outcome per
 * turn (`session.ts`). It listens to the HTTP server's `upgrade` event; the proxy's HTTP path
 * is untouched. The access rules are the HTTP proxy's (`access.ts`); a refused upgrade gets an
 * HTTP error in OpenAI's shape and is recorded like a refused request.
 *
 * Provides `responsesWs` (open sessions, read by `headroom_active_ws_sessions`). A graceful
 * shutdown closes idle sessions at once (1001) and lets a turn in flight finish within the
 * grace period.
 */
import { type IncomingMessage, type Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Config } from '../../config/index.js';
import { splitProjectPrefix } from '../../core/identity.js';
import { normalisePath } from '../../core/path.js';
import { definePlugin } from '../../core/plugin.js';
import { openaiErrors } from '../../providers/errors.js';
import type { ErrorType } from '../../core/outcome.js';
import { checkUpgrade } from './access.js';
import type { ResponsesWsService } from './api.js';
import { Session, type SessionHost } from './session.js';
import { type SessionIdentity, Turn } from './turn.js';

/** The paths served over WebSocket (after the `/p/<project>` prefix and normalisation). */
const WS_PATHS = new Set(['/v1/responses']);

/** Answers an upgrade with an HTTP response of ours and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, body: string, requestId?: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(requestId ? [`x-headroom-request-id: ${requestId}`] : []),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * An upgrade to something other than WebSocket (`Upgrade: h2c`, which `curl --http2` sends on
 * plain HTTP) is served as the HTTP/1.1 request it also is, as a server without an `upgrade`
 * listener would; Node hands it over detached from its parser, so only a request whose body
 * was complete (none) can be. Returns false when it cannot.
 */
function serveAsHttp(server: Server, req: IncomingMessage, socket: Duplex): boolean {
  if (!req.complete) return false;
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Parameters<ServerResponse['assignSocket']>[0]);
  res.once('finish', () => {
    res.detachSocket(socket as Parameters<ServerResponse['detachSocket']>[0]);
    socket.end();
  });
  if (!req.readableEnded) req.push(null);
  server.emit('request', req, res);
  return true;
}

/** The metering controls the config turns on (`a budget`, `a rate limit`, both), or null. */
function meteringControls(c: Config): string | null {
  const budget = c.budget !== null || c.budgetPerKey !== null || c.budgetPerProject !== null;
  const limit = c.rateLimit || c.rpm !== null || c.tpm !== null;
  // virtual keys: a session's upstream handshake would carry the client's key
  const keys = c.keys !== null;
  return [budget ? 'a budget' : null, limit ? 'a rate limit' : null, keys ? 'virtual keys' : null].filter(Boolean).join(' and ') || null;
}

export const responsesWsPlugin = definePlugin({
  name: 'responses-ws',
  optional: ['compression'],
  provides: ['responsesWs'],
  setup(ctx) {
    const { app, config, log } = ctx;
    const compression = ctx.optional('compression');
    const sessions = new Set<Session>();
    const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxBodyBytes, clientTracking: false });
    const host: SessionHost = {
      config,
      log,
      funnel: app.funnel,
      nextRequestId: () => app.nextRequestId(),
      track: (work) => app.track(work),
      get draining() {
        return app.draining;
      },
      compress: compression ? (t) => compression.compress(t) : null,
      ended: (s) => void sessions.delete(s),
    };

    /** A refused upgrade is a refused request: one outcome, like the HTTP path records. */
    const recordRefusal = (who: SessionIdentity, status: number, type: ErrorType, message: string): string => {
      const turn = new Turn(app.funnel, who, app.nextRequestId(), Buffer.alloc(0), '', 0);
      turn.rec.start();
      turn.fail(type, message, status);
      turn.record(false);
      return turn.id;
    };

    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', (err) => log.debug({ err: err.message }, 'websocket upgrade socket error'));
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const split = splitProjectPrefix(q === -1 ? url : url.slice(0, q));
      const search = q === -1 ? '' : url.slice(q);
      const { path } = normalisePath(split.path);
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
      if (upgrade !== 'websocket') {
        if (serveAsHttp(app.server, req, socket)) return;
        refuseUpgrade(socket, 400, JSON.stringify({ error: { type: 'invalid_request', message: `headroom-ts upgrades connections to WebSocket only (asked: "${upgrade.slice(0, 40)}"); send a request with a body without an Upgrade header.` } }));
        return;
      }
      if (req.method !== 'GET' || !WS_PATHS.has(path)) {
        refuseUpgrade(socket, 404, JSON.stringify({ error: { type: 'not_found', message: `No WebSocket route for ${req.method} ${path.slice(0, 200)}: headroom-ts takes WebSockets on /v1/responses.` } }));
        return;
      }
      const who: SessionIdentity = { req, path, prefixProject: split.project };
      if (app.draining) {
        const message = 'headroom-ts is shutting down and takes no new sessions; reconnect (to another instance if one is available).';
        const id = recordRefusal(who, 503, 'shutdown', message);
        refuseUpgrade(socket, 503, openaiErrors.errorBody(503, 'shutdown', message), id);
        return;
      }
      const access = checkUpgrade(req, config);
      if (!access.ok) {
        const id = recordRefusal(who, access.status, 'unauthorized', access.message);
        refuseUpgrade(socket, access.status, openaiErrors.errorBody(access.status, 'unauthorized', access.message), id);
        return;
      }
      // Budgets and rate limits are proxy stages of the HTTP path: a session would run past them,
      // so with either on it is refused rather than let through unmetered (as unpriced requests
      // are). Read from the config: the controls capability is not a dependency of this one.
      const controls = meteringControls(config);
      if (controls) {
        const message = `With ${controls} configured, headroom-ts refuses Responses WebSocket sessions (it enforces them on HTTP requests only, and a session would run past them); use POST /v1/responses.`;
        const id = recordRefusal(who, 403, 'invalid_request', message);
        refuseUpgrade(socket, 403, openaiErrors.errorBody(403, 'invalid_request', message), id);
        return;
      }
      wss.handleUpgrade(req, socket, head, (client) => {
        const session = new Session(host, client, who, search, access.authorizationIsProxyToken);
        sessions.add(session);
        session.start();
      });
    });

    app.onDrain(() => {
      for (const s of [...sessions]) s.drain();
    });
    app.onClose(() => {
      for (const s of [...sessions]) s.terminate();
      sessions.clear();
      wss.close();
    });

    const service: ResponsesWsService = {
      get activeSessions() {
        return sessions.size;
      },
      get activeRelays() {
        let n = 0;
        for (const s of sessions) if (s.upstreamOpen) n++;
        return n;
      },
    };
    return { responsesWs: service };
  },
});
