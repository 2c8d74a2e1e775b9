/**
 * The live endpoints:
 *   GET  /metrics/active-requests                   JSON snapshot of the requests in flight
 *   GET  /metrics/active-requests/stream            SSE (`update`, `: heartbeat`, `disabled`)
 *   POST /metrics/active-requests/stream/session    sets the stream cookie for browsers
 *   GET  /metrics/running-totals                    YAML (default) or JSON, filters
 *   GET  /metrics/logs                              recent errors and traces, newest first
 * All are `gated`: with a proxy token configured, non-loopback callers must present it. The
 * stream also accepts the session cookie, because EventSource cannot send headers.
 */
import type { App } from '../../core/app.js';
import { sendJson, sendText } from '../../core/http.js';
import { checkAccess, type RouteRequest } from '../../core/router.js';
import { nameMatcher } from './glob.js';
import { boolParam, enumParam, intParam, patternParam, QueryError } from './query.js';
import { sendDisabledStream } from './sse.js';
import { STREAM_PATH, type StreamSessions } from './stream-auth.js';
import { runningTotals, type TotalsQuery } from './totals.js';
import type { LiveMonitor } from './monitor.js';
import { disabledBody } from './views.js';
import { disabledYaml, totalsYaml } from './yaml.js';
import { redactSecrets } from '../../core/redact.js';
import type { ActiveDisabled, Logs, LogsDisabled, StreamSession } from './schema.js';

const NO_CACHE = { 'cache-control': 'no-cache' };
const YAML_TYPE = 'text/yaml; charset=utf-8';

/** Model, project and client names come from clients: a key pasted into one is scrubbed like in the logs. */
function sendRedactedJson(r: RouteRequest['res'], body: unknown): void {
  sendText(r, 200, redactSecrets(JSON.stringify(body)), { 'content-type': 'application/json', ...NO_CACHE });
}

function badRequest(r: RouteRequest, err: unknown): void {
  if (!(err instanceof QueryError)) throw err;
  sendJson(r.res, 400, { error: { type: 'invalid_request', message: err.message } }, NO_CACHE);
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

export function registerLiveRoutes(app: App, mon: LiveMonitor | null, sessions: StreamSessions): void {
  app.router.add('GET', '/metrics/active-requests', async ({ res }) => {
    if (!mon) return sendJson(res, 200, { ...disabledBody(), active_requests: [] } satisfies ActiveDisabled, NO_CACHE);
    // with a fleet: the other instances as read at most one interval ago
    const reading = mon.watch();
    if (reading) await reading;
    sendRedactedJson(res, mon.snapshot());
  }, 'gated');

  app.router.add('GET', STREAM_PATH, async ({ req, res }) => {
    if (!sessions.verifyRequest(req) && !checkAccess('gated', req, res, app.config)) return;
    if (!mon) return sendDisabledStream(res, disabledBody());
    // the first frame shows the fleet as just read; while the stream is open the others are read on every tick
    const reading = mon.watch();
    if (reading) await reading;
    if (res.destroyed) return;
    const last = req.headers['last-event-id'];
    if (!mon.hub.open(res, typeof last === 'string' ? last.trim() : null)) {
      sendJson(res, 503, { error: { type: 'too_many_streams', message: `At most ${app.config.liveSseMaxClients} live streams at once.` } }, { 'retry-after': '5' });
    }
  }, 'self');

  app.router.add('POST', `${STREAM_PATH}/session`, ({ req, res }) => {
    req.resume();
    const { header, expiresAt } = sessions.setCookie(req);
    sendJson(res, 200, { ok: true, stream: STREAM_PATH, expires_at: new Date(expiresAt).toISOString() } satisfies StreamSession, {
      'set-cookie': header,
      'cache-control': 'no-store',
    });
  }, 'gated');

  app.router.add('GET', '/metrics/running-totals', (r) => {
    let format: 'yaml' | 'json';
    let q: TotalsQuery;
    try {
      const accept = String(r.req.headers.accept ?? '');
      const byAccept = accept.includes('application/json') && !accept.includes('yaml') ? 'json' : 'yaml';
      format = enumParam(r.query, 'format', ['yaml', 'yml', 'json'] as const, byAccept) === 'json' ? 'json' : 'yaml';
      const providerPattern = patternParam(r.query, 'provider');
      const modelPattern = patternParam(r.query, 'model');
      q = {
        provider: nameMatcher(providerPattern),
        model: nameMatcher(modelPattern),
        providerPattern,
        modelPattern,
        includeActive: boolParam(r.query, 'include_active', true),
      };
    } catch (err) {
      return badRequest(r, err);
    }
    if (!mon) {
      if (format === 'json') return sendJson(r.res, 200, disabledBody(), NO_CACHE);
      return sendText(r.res, 200, disabledYaml(), { 'content-type': YAML_TYPE, ...NO_CACHE });
    }
    const now = Date.now();
    const totals = runningTotals(mon.tracker, q, now);
    if (format === 'json') return sendRedactedJson(r.res, totals);
    sendText(r.res, 200, redactSecrets(totalsYaml(totals)), {
      'content-type': YAML_TYPE,
      'content-disposition': `inline; filename="running-totals-${stamp(now)}.yaml"`,
      ...NO_CACHE,
    });
  }, 'gated');

  app.router.add('GET', '/metrics/logs', (r) => {
    const c = app.config;
    let limitErrors: number;
    let limitTraces: number;
    try {
      const both = intParam(r.query, 'limit', Math.max(c.liveErrorBuffer, c.liveTraceBuffer), 0, 100_000);
      limitErrors = intParam(r.query, 'limit_errors', both, 0, 100_000);
      limitTraces = intParam(r.query, 'limit_traces', both, 0, 100_000);
    } catch (err) {
      return badRequest(r, err);
    }
    if (!mon) return sendJson(r.res, 200, { ...disabledBody(), errors: [], traces: [] } satisfies LogsDisabled, NO_CACHE);
    const t = mon.tracker;
    const logs: Logs = {
      disabled: false,
      // Vandamme's logging-mode block: headroom-ts logs JSON lines to stdout, never to syslog
      systemd: { requested: false, effective: false, handler: 'console' },
      buffers: {
        errors: { capacity: t.errors.capacity, held: t.errors.size, recorded: t.errors.pushed },
        traces: { capacity: t.traces.capacity, held: t.traces.size, recorded: t.traces.pushed },
      },
      errors: t.recentErrors(limitErrors),
      traces: t.recentTraces(limitTraces),
    };
    sendRedactedJson(r.res, logs);
  }, 'gated');
}
