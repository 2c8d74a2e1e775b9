/**
 * `GET /stats`, `POST /stats/reset` and `GET /stats-history`.
 * - `/stats?cached=1` serves a snapshot rebuilt at most every 5 s; loopback-only keys
 *   (`request_logs`, `recent_requests`, `config`) are added fresh for strict-loopback callers
 *   and removed for everyone else.
 * - `/stats/reset` (admin: strict loopback or proxy token) zeroes the in-memory counters and
 *   is audited, including refusals.
 * - `/stats-history` validates every parameter; a bad value is a 400 naming it.
 */
import type { ServerResponse } from 'node:http';
import type { App } from '../../core/app.js';
import { sendJson, sendText } from '../../core/http.js';
import { isStrictLoopback } from '../../core/identity.js';
import { checkAccess, type RouteRequest } from '../../core/router.js';
import { redactSecrets } from '../../core/redact.js';
import { compactHistory, HISTORY_CSV_COLUMNS, type HistoryMode, isoUtc, type Period, PERIODS, ROLLUP_CSV_COLUMNS, toCsv } from './history.js';
import { HistoryViews, SPEND_CSV_COLUMNS } from './history-views.js';
import { buildStats, loopbackParts, type StatsDocument, projectsJson, retentionJson, SESSION_POLICY, sessionJson, totalsJson } from './payload.js';
import type { StatsHistory } from './schema.js';
import type { StatsService } from './service.js';
import { Snapshot } from './snapshot.js';

const SNAPSHOT_MS = 5_000;
const TRUE = new Set(['1', 'true', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['0', 'false', 'no', 'off', 'f', 'n']);

export class QueryError extends Error {
  constructor(
    readonly param: string,
    readonly input: string,
    readonly expected: string,
  ) {
    super(`Invalid value for query parameter '${param}': ${JSON.stringify(input)} (expected ${expected})`);
  }
}

/** 400 naming the parameter (FastAPI-style `detail` list, plus a plain message). */
export function sendQueryError(res: ServerResponse, e: QueryError): void {
  sendJson(res, 400, {
    detail: [{ type: 'invalid_query_parameter', loc: ['query', e.param], msg: `Input should be ${e.expected}`, input: e.input }],
    error: { type: 'invalid_request', message: e.message },
  });
}

/** `?report=spend`: spend per bucket, provider and model (daily unless `series` names a period), as JSON or CSV. */
async function sendSpendReport(res: ServerResponse, views: HistoryViews, format: 'json' | 'csv', period: Period): Promise<void> {
  const now = Date.now();
  const rows = await views.spend(period, now);
  if (format === 'csv') {
    sendText(res, 200, redactSecrets(toCsv(SPEND_CSV_COLUMNS, rows)), {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="headroom-spend-${period}.csv"`,
    });
    return;
  }
  sendRedactedJson(res, { report: 'spend', series: period, generated_at: isoUtc(now), columns: SPEND_CSV_COLUMNS, rows });
}

export function enumParam<T extends string>(q: URLSearchParams, name: string, values: readonly T[], fallback: T): T {
  const raw = q.get(name);
  if (raw === null) return fallback;
  const v = raw.trim().toLowerCase();
  if ((values as readonly string[]).includes(v)) return v as T;
  throw new QueryError(name, raw, values.map((x) => `'${x}'`).join(', ').replace(/, ([^,]*)$/, ' or $1'));
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const raw = q.get(name);
  if (raw === null) return false;
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new QueryError(name, raw, 'a boolean (1/0, true/false, yes/no, on/off)');
}

/** JSON with any API key that slipped into a value (a tag, an error text) scrubbed. */
function sendRedactedJson(res: ServerResponse, body: unknown): void {
  sendText(res, 200, redactSecrets(JSON.stringify(body)), { 'content-type': 'application/json' });
}

export function registerStatsRoutes(app: App, svc: StatsService): void {
  const snapshot = new Snapshot<StatsDocument>(SNAPSHOT_MS);
  svc.onReset(() => snapshot.invalidate());
  const audit = app.log.child({ logger: 'headroom.audit' });
  const views = new HistoryViews(svc.store);

  app.router.add('GET', '/stats', async ({ req, res, query }: RouteRequest) => {
    let cached: boolean;
    try {
      cached = boolParam(query, 'cached');
    } catch (e) {
      sendQueryError(res, e as QueryError);
      return;
    }
    const built = cached ? await snapshot.get(() => buildStats(app, svc)) : await buildStats(app, svc);
    if (isStrictLoopback(req)) {
      sendRedactedJson(res, { ...built, ...loopbackParts(app, svc) });
    } else {
      const { request_logs: _logs, recent_requests: _recent, ...remote } = built;
      sendRedactedJson(res, remote);
    }
  }, 'gated');

  app.router.add('POST', '/stats/reset', ({ req, res, path }: RouteRequest) => {
    const allowed = checkAccess('admin', req, res, app.config);
    if (allowed) {
      svc.reset();
      sendJson(res, 200, { status: 'reset' });
    }
    audit.info({
      event: 'headroom_admin_audit', action: 'admin_request', method: req.method, path,
      source_ip: req.socket.remoteAddress ?? null, status_code: res.statusCode,
    }, 'admin request');
  }, 'self');

  app.router.add('GET', '/stats-history', async ({ res, query }: RouteRequest) => {
    let format: 'json' | 'csv';
    let series: 'history' | Period;
    let mode: HistoryMode;
    let report: 'savings' | 'spend';
    try {
      report = enumParam(query, 'report', ['savings', 'spend'] as const, 'savings');
      format = enumParam(query, 'format', ['json', 'csv'] as const, 'json');
      series = enumParam(query, 'series', ['history', ...PERIODS] as const, 'history');
      mode = enumParam(query, 'history_mode', ['compact', 'full', 'none'] as const, 'compact');
    } catch (e) {
      sendQueryError(res, e as QueryError);
      return;
    }
    const store = svc.store;
    await store.flush();
    if (report === 'spend') return sendSpendReport(res, views, format, series === 'history' ? 'daily' : series);
    if (format === 'csv') {
      let csv: string;
      if (series === 'history') {
        csv = toCsv(HISTORY_CSV_COLUMNS, compactHistory(await views.history(), 'compact'));
      } else {
        csv = toCsv(ROLLUP_CSV_COLUMNS, await views.series(series, Date.now()));
      }
      sendText(res, 200, redactSecrets(csv), {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="headroom-stats-history-${series}.csv"`,
      });
      return;
    }
    const now = Date.now();
    const [lifetime, session, projects, all, attribution, ...series4] = await Promise.all([
      store.lifetime(), store.session(now), store.projects(), views.history(), views.attribution(), ...PERIODS.map((p) => views.series(p, now)),
    ]);
    const returned = compactHistory(all, mode);
    const doc: StatsHistory = {
      schema_version: 3,
      generated_at: isoUtc(now),
      storage_path: store.location,
      lifetime: totalsJson(lifetime),
      display_session: sessionJson(session),
      display_session_policy: SESSION_POLICY,
      history: returned,
      series: { hourly: series4[0]!, daily: series4[1]!, weekly: series4[2]!, monthly: series4[3]! },
      exports: { default_format: 'json', available_formats: ['json', 'csv'], available_series: ['history', ...PERIODS] },
      retention: retentionJson(svc),
      projects: projectsJson(projects),
      history_summary: { mode, stored_points: all.length, returned_points: returned.length, compacted: returned.length < all.length },
      cli_filtering: null,
      attribution,
    };
    sendRedactedJson(res, doc);
  }, 'gated');
}
