/**
 * The provider prompt-cache panel (`/stats` `prefix_cache`, process scope). Its provider
 * table lists every provider of the Providers table with the same request count
 * (`requests.by_provider`: every counted request, errors included); the requests whose
 * usage reported the prompt cache (`prefix_cache.by_provider[p].requests`) are a column of
 * their own, so the two panels never disagree on how many requests a provider had.
 */
import { Card, Empty, Figure, ShareBar, Table } from './components.js';
import { fmtInt, fmtPct, fmtUsd } from './format.js';
import type { ProviderCache, Stats } from './types.js';

export interface CacheProviderRow {
  provider: string;
  /** Every counted request of the provider, as the Providers table counts them. */
  requests: number;
  /** Its figures, when any request reported prompt-cache usage. */
  f: ProviderCache | null;
}

export function cacheProviderRows(s: Stats): CacheProviderRow[] {
  const names = new Set([...Object.keys(s.requests.by_provider), ...Object.keys(s.prefix_cache.by_provider)]);
  return [...names]
    .map((provider) => ({ provider, requests: s.requests.by_provider[provider] ?? 0, f: s.prefix_cache.by_provider[provider] ?? null }))
    .filter((r) => r.requests > 0 || (r.f?.requests ?? 0) > 0)
    .sort((a, b) => b.requests - a.requests || a.provider.localeCompare(b.provider));
}

const ProviderTable = ({ rows }: { rows: CacheProviderRow[] }) => (
  <Table<CacheProviderRow>
    testid="cache-providers" rows={rows} rowKey={(r) => r.provider}
    columns={[
      { label: 'Provider', cell: (r) => <span title={r.f?.label}>{r.provider}</span> },
      { label: 'Requests', num: true, title: 'every request, as in the Providers table', cell: (r) => <span data-value={r.requests}>{fmtInt(r.requests)}</span> },
      { label: 'Cache use', num: true, title: 'successful requests whose usage reported the prompt cache', cell: (r) => fmtInt(r.f?.requests ?? 0) },
      { label: 'Reads', num: true, cell: (r) => fmtInt(r.f?.cache_read_tokens ?? 0) },
      { label: 'Writes', num: true, cell: (r) => fmtInt(r.f?.cache_write_tokens ?? 0) },
      { label: 'Hit rate', num: true, cell: (r) => <span title={r.f ? `${fmtInt(r.f.bust_count)} busts` : undefined}>{r.f ? fmtPct(r.f.hit_rate) : '—'}</span> },
      { label: 'Net USD', num: true, cell: (r) => (r.f ? fmtUsd(r.f.net_savings_usd) : '—') },
    ]}
  />
);

export function CachePanel({ s }: { s: Stats }) {
  const pc = s.prefix_cache;
  const t = pc.totals;
  const miss = pc.miss_attribution.totals;
  const cvc = pc.compression_vs_cache;
  const providers = cacheProviderRows(s);
  return (
    <Card title="Prompt cache" note="observed from provider usage" testid="cache-panel">
      {t.requests === 0 ? (
        <>
          <Empty testid="cache-empty">No proxied request has reported prompt-cache usage yet.</Empty>
          {providers.length > 0 && <ProviderTable rows={providers} />}
        </>
      ) : (
        <>
          <div class="figures">
            <Figure testid="cache-reads" label="Reads" value={t.cache_read_tokens} text={fmtInt(t.cache_read_tokens)} title="Prompt tokens served from the provider's cache" />
            <Figure testid="cache-writes" label="Writes" value={t.cache_write_tokens} text={fmtInt(t.cache_write_tokens)} title="Prompt tokens written to the provider's cache" />
            <Figure testid="cache-hit-rate" label="Hit rate" value={t.hit_rate} text={fmtPct(t.hit_rate)} title="Cache reads / all prompt tokens of the requests that used the cache" />
            <Figure label="Requests with hits" value={t.request_hit_rate} text={fmtPct(t.request_hit_rate)} />
            <Figure
              testid="cache-net-usd" label="Net savings" value={t.net_savings_usd} text={fmtUsd(t.net_savings_usd)} tone={t.net_savings_usd < 0 ? 'warn' : 'accent'}
              title={`Read savings ${fmtUsd(t.savings_usd)} − write premium ${fmtUsd(t.write_premium_usd)}`}
            />
            <Figure testid="cache-busts" label="Busts" value={t.bust_count} text={fmtInt(t.bust_count)} tone={t.bust_count > 0 ? 'warn' : undefined} title={`${fmtInt(t.bust_write_tokens)} tokens rewritten by busts`} />
          </div>
          <div class="split">
            <div>
              <h3>TTL mix of cache writes</h3>
              <ShareBar testid="ttl-mix" parts={[
                { label: `5 min · ${fmtInt(t.observed_ttl_buckets['5m'].tokens)}`, value: t.observed_ttl_buckets['5m'].tokens, tone: 'blue' },
                { label: `1 hour · ${fmtInt(t.observed_ttl_buckets['1h'].tokens)}`, value: t.observed_ttl_buckets['1h'].tokens, tone: 'violet' },
              ]} />
            </div>
            <div>
              <h3>Misses by cause <span class="muted">({fmtInt(miss.total)})</span></h3>
              <ShareBar testid="miss-attribution" parts={[
                { label: `TTL expiry ${fmtInt(miss.ttl_expiry)}`, value: miss.ttl_expiry, tone: 'amber' },
                { label: `prefix change ${fmtInt(miss.prefix_change)}`, value: miss.prefix_change, tone: 'red' },
                { label: `unknown ${fmtInt(miss.unknown)}`, value: miss.unknown, tone: 'gray' },
              ]} />
            </div>
          </div>
          <p class="fine" data-testid="compression-busts">
            Busts caused by compression: <b>{fmtInt(cvc.cache_bust_count)}</b>, {fmtInt(cvc.tokens_lost_to_cache_bust)} cached tokens lost
            against {fmtInt(cvc.tokens_saved_by_compression)} saved (net {fmtInt(cvc.net_tokens)}).
          </p>
          <ProviderTable rows={providers} />
        </>
      )}
    </Card>
  );
}
