// Load generators: closed-loop throughput (autocannon) and open-loop fixed-rate latency
// (our own, microsecond resolution, latency measured from the scheduled send time so a
// stall is not hidden by coordinated omission).
import autocannon from 'autocannon';
import { Pool } from 'undici';

export async function throughput(url, { path, body, headers, connections = 50, duration = 10 }) {
  const r = await autocannon({ url: url + path, method: 'POST', body, headers, connections, duration, pipelining: 1 });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    total: r.requests.total,
  };
}

export async function fixedRate(url, { path, body, headers, rate = 500, duration = 10, connections = 32 }) {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const total = Math.round(rate * duration);
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  let errors = 0;
  const start = performance.now() + 20;
  const pending = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait - 0.5));
    while (performance.now() < scheduled) { /* spin the last half millisecond */ }
    pending.push(
      pool.request({ path, method: 'POST', headers, body }).then(async (res) => {
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
        latencies[i] = performance.now() - scheduled;
      }, () => {
        errors++;
        latencies[i] = performance.now() - scheduled;
      }),
    );
  }
  await Promise.all(pending);
  await pool.close();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1], errors, total };
}
