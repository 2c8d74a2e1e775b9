#!/usr/bin/env node
/** The `headroom-ts` command line. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerHookCommand } from './hook-command.js';
import { registerProxyCommand } from './proxy-command.js';
import { registerWrapCommand } from './wrap-command.js';
import { registerStatsCommand } from './stats-command.js';
import { registerCompressCommand } from './compress-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerMigrateCommand } from './migrate-command.js';

const program = new Command();
program
  .name('headroom-ts')
  .description('A compressing, measuring proxy for Anthropic and OpenAI clients.')
  .version(VERSION)
  // options after a subcommand belong to it (`wrap` passes the rest to the wrapped tool)
  .enablePositionalOptions();
registerProxyCommand(program);
registerWrapCommand(program);
registerStatsCommand(program);
registerCompressCommand(program);
registerDemoCommand(program);
registerHookCommand(program);
registerMigrateCommand(program);
// `headroom-ts <command> --version` works too (wrap: before the tool; after it, the tool's own)
for (const cmd of program.commands) cmd.version(VERSION);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`headroom-ts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
