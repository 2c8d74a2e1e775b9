/**
 * Ambient mode: when headroom-ts runs inside an application that registered global OTEL
 * providers (through any copy of `@opentelemetry/api` 1.x: the globals are shared), record
 * into them. The globals are looked up per outcome, so an application that registers its
 * providers after creating the headroom-ts app is picked up too; a provider is resolved only
 * when the global changes.
 */
import { createNoopMeter, type Meter, metrics, ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { VERSION } from '../../version.js';
import { SCOPE } from './names.js';

const NOOP_METER = createNoopMeter();
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

export class AmbientProviders {
  private meterProvider: unknown = null;
  private meter: Meter | null = null;
  private tracerProvider: TracerProvider | null = null;
  private tracer: Tracer | null = null;

  /** The application's meter, or null when no global meter provider is registered. Second value: it changed. */
  currentMeter(): { meter: Meter | null; changed: boolean } {
    const p = metrics.getMeterProvider();
    if (p === this.meterProvider) return { meter: this.meter, changed: false };
    this.meterProvider = p;
    const m = p.getMeter(SCOPE, VERSION);
    this.meter = m === NOOP_METER ? null : m;
    return { meter: this.meter, changed: true };
  }

  /** The application's tracer, or null when no global tracer provider is registered. */
  currentTracer(): Tracer | null {
    const global = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
    const delegate = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
    if (delegate === this.tracerProvider) return this.tracer;
    this.tracerProvider = delegate;
    this.tracer = delegate === NOOP_TRACER_PROVIDER ? null : delegate.getTracer(SCOPE, VERSION);
    return this.tracer;
  }
}
