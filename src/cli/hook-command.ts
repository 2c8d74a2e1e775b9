/** `headroom-ts hook`: the standalone Aperture pre_request hook server, until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { hookConfigPath, hookPoolSize } from '../capabilities/hook/service.js';
import { createHookApp } from '../compose/hook.js';
import { allFields, type ConfigKey } from '../config/index.js';
import { createLogger } from '../core/logger.js';
import { VERSION } from '../version.js';
import { unknownEnvWarnings } from './env-check.js';
import { addConfigOptions, configFromOptions } from './options.js';

// `--port` of this command is the hook's port (the proxy's `--port` means nothing here).
/** Hook calls in flight at shutdown get this long to finish. */
const HOOK_GRACE_MS = 10_000;

const HOOK_KEYS = (Object.keys(allFields) as ConfigKey[]).filter((k) => k !== 'port');

export function registerHookCommand(program: Command): void {
  const cmd = program
    .command('hook')
    .description('Run the Aperture pre_request compression hook on its own port (default 127.0.0.1:8790).')
    .option('-v, --verbose', 'Print one summary line per hook request to stdout (same as --hook-verbose)')
    .option('-p, --port <value>', 'Port of the hook server (same as --hook-port; 0 picks a free port).');
  addConfigOptions(cmd, HOOK_KEYS);
  cmd.action(async (opts: Record<string, unknown>) => {
    const config = configFromOptions(opts, (flags) => {
      if (opts.verbose === true) flags.hookVerbose = true;
      delete flags.port;
      if (typeof opts.port === 'string' && flags.hookPort === undefined) flags.hookPort = opts.port;
    });
    // Operational logs on stderr; stdout carries the -v lines.
    const log = createLogger({ level: config.logLevel, destination: process.stderr });
    const server = await createHookApp(config, log);
    for (const w of unknownEnvWarnings(process.env)) log.warn(w);
    // installed before the listening line: a supervisor may send SIGTERM as soon as it sees it
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 20_000);
      force.unref();
      void server.close(HOOK_GRACE_MS).then(() => log.flush(() => process.exit(0)));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    let address;
    try {
      address = await server.listen(config.hookPort);
    } catch (err) {
      process.stderr.write(`headroom-ts: cannot listen on ${config.host}:${config.hookPort}: ${(err as Error).message}\n`);
      await server.close(0);
      process.exit(1);
    }
    log.info(
      {
        url: address.url, pool_size: hookPoolSize(config), max_compress_s: config.hookMaxCompressSeconds, config: hookConfigPath(config),
        affinity: config.hookAffinity, verbose: config.hookVerbose, version: VERSION,
      },
      `headroom-ts hook listening on ${address.url}`,
    );
  });
}
