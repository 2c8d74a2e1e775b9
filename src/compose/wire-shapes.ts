/**
 * docs/wire-shapes.md: the tables of every typed response, generated from the schemas the
 * server builds them by (`npm run docs:wire`; test/wire-shapes-docs.test.ts keeps the file in
 * sync).
 */
import type { z } from 'zod';
import { healthSchema } from '../capabilities/health/schema.js';
import { hookAllowSchema, hookConfigSchema, hookEnvelopeSchema, hookModifySchema } from '../capabilities/hook/schema.js';
import {
  activeSnapshotSchema, disabledSchema, logsSchema, runningTotalsSchema, streamSessionSchema,
} from '../capabilities/live/schema.js';
import { loopbackPartsSchema, statsHistorySchema, statsSchema } from '../capabilities/stats/schema.js';
import { schemaTable } from '../util/wire-docs.js';

interface Shape {
  title: string;
  about: string;
  schema: z.ZodType;
}

export const WIRE_SHAPES: readonly Shape[] = [
  {
    title: '`GET /stats`',
    about: 'Process, durable and per-capability figures (see observability.md). Keys are served in this order; sections other capabilities fill in are `any` here and documented with them. Remote callers get neither `request_logs` nor `recent_requests`.',
    schema: statsSchema,
  },
  {
    title: '`GET /stats`: strict loopback additions',
    about: 'For strict loopback callers only: `request_logs` and `recent_requests` (above) built fresh, even for `?cached=1`, and `config`.',
    schema: loopbackPartsSchema.pick({ config: true }),
  },
  { title: '`GET /stats-history` (JSON)', about: 'Durable history and chart series (see observability.md for the query parameters and the CSV form).', schema: statsHistorySchema },
  { title: '`GET /health`', about: 'Readiness and each check; `config` only for strict loopback callers.', schema: healthSchema },
  { title: '`GET /metrics/active-requests`', about: 'Requests in flight; also the data of every `update` event of `/metrics/active-requests/stream` (see live.md).', schema: activeSnapshotSchema },
  { title: '`GET /metrics/running-totals?format=json`', about: 'Running totals, provider -> model; the YAML form carries the same tree.', schema: runningTotalsSchema },
  { title: '`GET /metrics/logs`', about: 'Recent errors and traces, newest first.', schema: logsSchema },
  { title: '`POST /metrics/active-requests/stream/session`', about: 'Sets the stream cookie for browsers (EventSource cannot send headers).', schema: streamSessionSchema },
  {
    title: 'Live endpoints while live monitoring is off',
    about: 'The body of the stream\'s single `disabled` event and of `/metrics/running-totals?format=json`; `/metrics/active-requests` adds an empty `active_requests`, `/metrics/logs` empty `errors` and `traces`.',
    schema: disabledSchema,
  },
  { title: 'Hook: `POST /` envelope', about: 'What the hook reads of the envelope a gateway sends (see hook.md); it never refuses one: what it cannot use is answered `allow`.', schema: hookEnvelopeSchema },
  { title: 'Hook: `allow` answer', about: 'Send the request as it is.', schema: hookAllowSchema },
  { title: 'Hook: `modify` answer', about: 'The received `request_body` with only `messages` replaced (every other byte as received).', schema: hookModifySchema },
  { title: 'Hook: `GET /config`', about: 'The runtime settings (also the body of a `PUT`/`POST /config` answer, without `headroom_version`).', schema: hookConfigSchema },
];

export function wireShapesMarkdown(): string {
  const out = [
    '# Wire shapes',
    '',
    '<!-- Generated from the zod schemas (src/capabilities/*/schema.ts) by `npm run docs:wire`; a test keeps it in sync. Do not edit. -->',
    '',
    'The JSON bodies headroom-ts serves, field by field, generated from the schemas the server builds them by, the dashboard',
    'takes its types from, and the tests parse real responses with. Every field listed is present unless marked optional;',
    'a client should ignore fields it does not know (capabilities add sections). `<key>` stands for a map key, `[]` for the',
    'items of an array.',
  ];
  for (const s of WIRE_SHAPES) out.push('', `## ${s.title}`, '', s.about, '', schemaTable(s.schema));
  return `${out.join('\n')}\n`;
}
