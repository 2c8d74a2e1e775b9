import { field } from '../field.js';

/** Listening, request limits, access and workspace. */
export const serverFields = {
  host: field.string({
    flag: 'host', env: ['HEADROOM_HOST'], default: '127.0.0.1', group: 'server',
    doc: 'Address to bind. A non-loopback bind without a proxy token logs a warning.',
  }),
  port: field.int({
    flag: 'port', short: 'p', env: ['HEADROOM_PORT'], default: 8787, min: 0, max: 65535, group: 'server',
    doc: 'Port to listen on (0 picks a free port).',
  }),
  maxBodyBytes: field.bytes({
    flag: 'max-body-bytes', env: ['HEADROOM_MAX_BODY_BYTES'], default: 32 * 1024 * 1024, min: 1024, max: 1024 ** 3,
    group: 'server', defaultText: '32MiB',
    doc: 'Largest request body accepted, before and after Content-Encoding decoding; larger bodies get 413 in the provider\'s error shape.',
  }),
  requestBodyTimeoutSeconds: field.number({
    flag: 'request-body-timeout-seconds', env: ['HEADROOM_REQUEST_BODY_TIMEOUT_SECONDS'], default: 30, min: 0, max: 3600,
    exclusiveMin: true, group: 'server',
    doc: 'Longest wait for the next chunk of a request body; a body that stalls longer gets 408 in the provider\'s error shape.',
  }),
  proxyToken: field.optionalString({
    flag: 'proxy-token', env: ['HEADROOM_PROXY_TOKEN'], default: null, group: 'server',
    doc: 'When set, callers that are not local must send it (`Authorization: Bearer` or `X-Headroom-Proxy-Token`), and admin routes accept it from them. Local: a loopback peer whose request carries no forwarding header (`Forwarded`, `X-Forwarded-For`, `X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Real-IP`), so requests a reverse proxy on the same machine forwards need the token.',
  }),
  allowedHosts: field.list({
    flag: 'allowed-hosts', env: ['HEADROOM_ALLOWED_HOSTS'], default: [], group: 'server', defaultText: 'none',
    doc: 'Extra `Host` names a loopback-bound proxy answers (DNS-rebinding defence): requests naming any other host get 403 unless they carry the proxy token. Loopback names and addresses (and `host.docker.internal`) are always accepted; `.example.com` accepts the domain and its subdomains, `*` any host.',
  }),
  workspaceDir: field.string({
    flag: 'workspace-dir', env: ['HEADROOM_WORKSPACE_DIR'], default: '~/.headroom', group: 'server',
    doc: 'State root: SQLite stores, logs.',
  }),
  stateless: field.bool({
    flag: 'stateless', env: ['HEADROOM_STATELESS'], default: false, group: 'server',
    doc: 'Write nothing to disk; all state lives in memory.',
  }),
  shutdownGraceSeconds: field.number({
    flag: 'shutdown-grace-seconds', env: ['HEADROOM_SHUTDOWN_GRACE_SECONDS'], default: 30, min: 0, max: 86_400, group: 'server',
    doc: 'On SIGTERM/SIGINT, how long requests in flight may take to finish (new ones get 503, `/readyz` answers 503); what is still running then ends with the provider\'s error event (503 before any byte), recorded as `shutdown`. A second signal ends them at once.',
  }),
  logLevel: field.enum({
    flag: 'log-level', env: ['HEADROOM_LOG_LEVEL'], default: 'info', group: 'server',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
    doc: 'Log level of the JSON log on stdout.',
  }),
  logRequests: field.bool({
    flag: 'log-requests', env: ['HEADROOM_LOG_REQUESTS'], default: true, group: 'server',
    doc: 'One JSON log line per finished request (id, route, model, status, tokens, timings).',
  }),
} as const;
