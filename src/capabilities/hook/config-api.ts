/**
 * `GET /config` (the eight settings plus read-only `headroom_version`) and `PUT`/`POST
 * /config` (partial merge onto the current settings; validated, persisted atomically, live
 * for the next request). Errors are 400 text/plain naming the field; a file that cannot be
 * written is a 500 (the server's fault) and leaves the settings as they were.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, sendText } from '../../core/http.js';
import { SettingsError, SettingsPersistError, settingsJson } from './settings.js';
import type { HookConfig } from './schema.js';
import type { SettingsStore } from './settings-store.js';

const MAX_CONFIG_BYTES = 64 * 1024;

export async function handleConfig(req: IncomingMessage, res: ServerResponse, store: SettingsStore, version: () => string | null): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    const v = version();
    const body: HookConfig = { ...settingsJson(store.settings), ...(v ? { headroom_version: v } : {}) };
    sendJson(res, 200, body);
    return;
  }
  if (method !== 'PUT' && method !== 'POST') {
    sendText(res, 405, 'method not allowed\n', { allow: 'GET, PUT, POST' });
    return;
  }
  const read = await readBody(req, MAX_CONFIG_BYTES);
  if (read.kind === 'aborted') return;
  if (read.kind === 'too_large') {
    sendText(res, 400, `read body failed: config body exceeds ${MAX_CONFIG_BYTES} bytes\n`, { connection: 'close' });
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch (err) {
    sendText(res, 400, `invalid JSON: ${(err as Error).message}\n`);
    return;
  }
  try {
    const next = await store.update(body);
    sendJson(res, 200, settingsJson(next));
  } catch (err) {
    if (err instanceof SettingsError) sendText(res, 400, `${err.message}\n`, { 'x-headroom-invalid-field': err.field });
    else if (err instanceof SettingsPersistError) sendText(res, 500, `${err.message}\n`);
    else throw err;
  }
}
