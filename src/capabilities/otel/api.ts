/** What the OpenTelemetry capability offers (type-only imports): the `otel` service, its runtime. */
import type { OtelRuntime } from './runtime.js';

export type { OtelRuntime } from './runtime.js';

declare module '../../core/plugin.js' {
  interface Services {
    otel: OtelRuntime;
  }
}
