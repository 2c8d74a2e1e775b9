/** The bounded label sets of `/metrics` (models, requested models, routed providers and stacks <= 32, projects <= 50; overflow `other`). */
import { LabelCap } from './label-cap.js';

export interface MetricLabels {
  model: LabelCap;
  stack: LabelCap;
  project: LabelCap;
  transform: LabelCap;
  path: LabelCap;
  stage: LabelCap;
  signal: LabelCap;
  requestedModel: LabelCap;
  routedProvider: LabelCap;
}

export const LABEL_CAPS = { model: 32, stack: 32, project: 50, transform: 64, path: 32, stage: 32, signal: 32, requestedModel: 32, routedProvider: 32 } as const;

export function metricLabels(): MetricLabels {
  return {
    model: new LabelCap(LABEL_CAPS.model),
    stack: new LabelCap(LABEL_CAPS.stack),
    project: new LabelCap(LABEL_CAPS.project),
    transform: new LabelCap(LABEL_CAPS.transform),
    path: new LabelCap(LABEL_CAPS.path),
    stage: new LabelCap(LABEL_CAPS.stage),
    signal: new LabelCap(LABEL_CAPS.signal),
    requestedModel: new LabelCap(LABEL_CAPS.requestedModel),
    routedProvider: new LabelCap(LABEL_CAPS.routedProvider),
  };
}
