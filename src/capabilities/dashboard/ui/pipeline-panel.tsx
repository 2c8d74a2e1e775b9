/** Pipeline timing per transform and per proxy stage (`/stats` `pipeline_timing`, `stage_timing`). */
import { Card, Empty, Table } from './components.js';
import { fmtInt, fmtMs } from './format.js';
import type { Stats } from './types.js';

interface TransformRow {
  name: string;
  runs: number;
  saved: number;
  avg: number;
  max: number;
}

interface StageRow {
  key: string;
  path: string;
  stage: string;
  count: number;
  avg: number;
  max: number;
}

export function PipelinePanel({ s }: { s: Stats }) {
  const names = new Set([...Object.keys(s.pipeline_timing), ...Object.keys(s.compressions_by_strategy), ...Object.keys(s.tokens_saved_by_strategy)]);
  const transforms: TransformRow[] = [...names]
    .map((name) => {
      const t = s.pipeline_timing[name];
      return { name, runs: t?.count ?? s.compressions_by_strategy[name] ?? 0, saved: s.tokens_saved_by_strategy[name] ?? 0, avg: t?.average_ms ?? Number.NaN, max: t?.max_ms ?? Number.NaN };
    })
    .sort((a, b) => b.saved - a.saved || a.name.localeCompare(b.name));
  const stages: StageRow[] = Object.entries(s.stage_timing)
    .flatMap(([path, byStage]) => Object.entries(byStage).map(([stage, t]) => ({ key: `${path} ${stage}`, path, stage, count: t.count, avg: t.average_ms, max: t.max_ms })))
    .sort((a, b) => b.count - a.count);
  return (
    <div class="grid-2">
      <Card title="Transforms" note="compression pipeline, this process" testid="transforms-card">
        {transforms.length === 0 ? (
          <Empty testid="transforms-empty">
            No compression transform has run yet. Each transform appears here with its runs, tokens saved and time once compression
            processes a request.
          </Empty>
        ) : (
          <Table<TransformRow>
            testid="transforms-table" rows={transforms} rowKey={(r) => r.name}
            columns={[
              { label: 'Transform', cell: (r) => <span class="mono">{r.name}</span> },
              { label: 'Runs', num: true, cell: (r) => fmtInt(r.runs) },
              { label: 'Tokens saved', num: true, cell: (r) => fmtInt(r.saved) },
              { label: 'Avg', num: true, cell: (r) => fmtMs(r.avg) },
              { label: 'Max', num: true, cell: (r) => fmtMs(r.max) },
            ]}
          />
        )}
      </Card>
      <Card title="Proxy stages" note="time per stage before the upstream call" testid="stages-card">
        <Table<StageRow>
          testid="stages-table" rows={stages} rowKey={(r) => r.key} empty="No proxy stage has run yet."
          columns={[
            { label: 'Route', cell: (r) => <span class="mono">{r.path}</span> },
            { label: 'Stage', cell: (r) => r.stage },
            { label: 'Runs', num: true, cell: (r) => fmtInt(r.count) },
            { label: 'Avg', num: true, cell: (r) => fmtMs(r.avg) },
            { label: 'Max', num: true, cell: (r) => fmtMs(r.max) },
          ]}
        />
      </Card>
    </div>
  );
}
