/**
 * `--log-file`: one JSON line per request with Headroom's field names (see
 * request-record.ts), secrets redacted, written asynchronously and rotated by size
 * (`file` -> `file.1` -> ... -> `file.<backups>`). Off in stateless mode.
 */
import { createWriteStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { definePlugin } from '../../core/plugin.js';
import type { Logger } from '../../core/logger.js';
import { redactSecrets } from '../../core/redact.js';
import { requestRecord } from './request-record.js';

export class RotatingJsonlFile {
  private stream: WriteStream;
  private size: number;
  private failed = false;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly backups: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = existsSync(path) ? statSync(path).size : 0;
    this.stream = this.open();
  }

  private open(): WriteStream {
    // opened synchronously: the file exists as soon as it is current, so a rotation right after
    // this one (a burst of long lines) renames it instead of racing a stream still opening
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'a');
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, 'request log file cannot be opened');
    }
    const s = fd === undefined ? createWriteStream(this.path, { flags: 'a' }) : createWriteStream(this.path, { fd, flags: 'a' });
    s.on('error', (err) => {
      if (!this.failed) this.log.warn({ path: this.path, err: err.message }, 'request log file write failed');
      this.failed = true;
    });
    return s;
  }

  write(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    this.size += bytes;
    this.stream.write(`${line}\n`);
  }

  /** Renames are metadata operations; data still queued on the old stream lands in `.1`. */
  private rotate(): void {
    this.stream.end();
    try {
      if (this.backups === 0) rmSync(this.path, { force: true });
      else {
        rmSync(`${this.path}.${this.backups}`, { force: true });
        for (let i = this.backups - 1; i >= 1; i--) {
          if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        }
        renameSync(this.path, `${this.path}.1`);
      }
    } catch (err) {
      this.log.warn({ path: this.path, err: (err as Error).message }, 'request log rotation failed');
    }
    this.size = 0;
    this.failed = false;
    this.stream = this.open();
  }

  close(): Promise<void> {
    return new Promise((done) => this.stream.end(done));
  }
}

export const logFilePlugin = definePlugin({
  name: 'log-file',
  needs: ['stats'],
  setup(ctx) {
    const { app } = ctx;
    const svc = ctx.need('stats');
    const path = app.config.logFile;
    if (!path) return;
    if (app.config.stateless) {
      app.log.warn({ log_file: path }, '--log-file is ignored in stateless mode (nothing is written to disk)');
      return;
    }
    const file = new RotatingJsonlFile(resolve(path), app.config.logFileMaxBytes, app.config.logFileBackups, app.log);
    const withMessages = app.config.logMessages;
    app.addSink({
      name: 'log-file',
      outcome(o) {
        const { record, imagesRedacted } = requestRecord(o, { withMessages });
        if (imagesRedacted > 0) svc.imagesRedacted += imagesRedacted;
        file.write(redactSecrets(JSON.stringify(record)));
      },
      close: () => file.close(),
    });
  },
});
