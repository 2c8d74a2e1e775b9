/**
 * `headroom-ts proxy`: serve the proxy until SIGINT/SIGTERM. Accepts Headroom's `headroom proxy`
 * flags (those without an equivalent are named in a start-up warning), warns once about
 * unknown `HEADROOM_*` variables, and announces itself in one human line in a terminal (the JSON
 * log line otherwise).
 */
import type { Command } from 'commander';
import type {} from '../capabilities/routing/api.js';
import { createProxyApp } from '../compose/proxy.js';
import { isLoopbackAddress } from '../core/identity.js';
import { unknownEnvWarnings } from './env-check.js';
import { firstContactLine, startFacts } from './first-contact.js';
import { addHeadroomOnlyOptions, headroomOnlyWarnings } from './headroom-compat.js';
import { addConfigOptions, configFromOptions } from './options.js';

export function registerProxyCommand(program: Command): void {
  const cmd = program.command('proxy').description('Run the compressing, measuring LLM proxy (default 127.0.0.1:8787).');
  addConfigOptions(cmd);
  addHeadroomOnlyOptions(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = configFromOptions(opts);
    let app;
    try {
      app = await createProxyApp(config);
    } catch (err) {
      // an invalid routing file (or another start-up refusal naming its field): one line, exit 2
      if (err instanceof Error && err.name === 'RoutingConfigError') {
        process.stderr.write(`headroom-ts: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    process.on('SIGHUP', () => void app.service('routing')?.reload());
    for (const w of [...headroomOnlyWarnings(cmd, process.env), ...unknownEnvWarnings(process.env)]) app.log.warn(w);
    // installed before the listening line: a supervisor may send SIGTERM as soon as it sees it
    let stopping = false;
    const graceMs = Math.round(config.shutdownGraceSeconds * 1000);
    const stop = (signal: string) => {
      if (stopping) {
        // a second signal: end what is still in flight now
        app.log.info({ signal }, 'second signal: ending the requests in flight now');
        void app.drain(0);
        return;
      }
      stopping = true;
      app.log.info({ signal, in_flight: app.inFlight, grace_seconds: config.shutdownGraceSeconds }, 'shutting down: no new requests, finishing those in flight');
      // a last resort if closing the stores hangs
      const force = setTimeout(() => process.exit(1), graceMs + 15_000);
      force.unref();
      void app
        .drain(graceMs)
        .then((r) => {
          app.log.info({ finished: r.finished, ended: r.ended, waited_ms: r.waitedMs }, 'requests drained; flushing the stores');
          return app.close(0);
        })
        .then(() => {
          app.log.info('shut down');
          app.log.flush(() => process.exit(0));
        });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    let address;
    try {
      address = await app.listen();
    } catch (err) {
      process.stderr.write(`headroom-ts: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const facts = startFacts(address, config, app.version);
    if (process.stdout.isTTY) {
      // after the buffered log lines written so far, so the terminal shows them in order
      const line = `${firstContactLine(facts)}\n`;
      app.log.flush(() => process.stdout.write(line));
    } else {
      app.log.info(
        { url: address.url, anthropic: config.anthropicApiUrl, openai: config.openaiApiUrl, workspace: config.workspaceDir, version: app.version, dashboard: facts.dashboard, export: { ANTHROPIC_BASE_URL: facts.anthropic_base_url, OPENAI_BASE_URL: facts.openai_base_url } },
        `headroom-ts proxy listening on ${address.url}`,
      );
      app.log.flush();
    }
    if (!isLoopbackAddress(config.host) && config.host !== 'localhost' && !config.proxyToken) {
      app.log.warn('listening on a non-loopback address without HEADROOM_PROXY_TOKEN: anyone who can reach it can use it');
    }
  });
}
