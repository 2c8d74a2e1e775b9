/**
 * A deterministic hook envelope for tests and the hook benchmark: an agent conversation whose
 * newest turn is the tool result of a 400-entry recursive file listing (`find . -type f`),
 * as Aperture sends it to a pre_request hook.
 */

const DIRS = [
  'src', 'src/api', 'src/api/handlers', 'src/api/middleware', 'src/components', 'src/components/forms', 'src/components/layout',
  'src/hooks', 'src/lib', 'src/lib/db', 'src/lib/auth', 'src/services', 'src/utils', 'test', 'test/unit', 'test/integration',
  'docs', 'scripts', 'config', 'public/assets', 'public/icons', 'migrations',
];
const STEMS = ['index', 'user', 'account', 'session', 'payment', 'invoice', 'report', 'search', 'cache', 'logger', 'router', 'config', 'schema', 'client', 'server', 'queue', 'worker', 'billing', 'profile', 'settings'];
const EXTS: Record<string, string[]> = {
  src: ['.ts', '.tsx', '.ts'], test: ['.test.ts'], docs: ['.md'], scripts: ['.sh', '.mjs'], config: ['.json', '.yaml'], public: ['.svg', '.png'], migrations: ['.sql'],
};

/** `n` file paths, spread over directories like a mid-sized TypeScript service. */
export function fileListing(n = 400): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const dir = DIRS[(i * 7) % DIRS.length] as string;
    const exts = EXTS[dir.split('/')[0] as string] ?? ['.ts'];
    const stem = STEMS[(i * 3 + Math.floor(i / DIRS.length)) % STEMS.length] as string;
    const ext = exts[i % exts.length] as string;
    const file = `./${dir}/${stem}${i >= STEMS.length ? `-${i}` : ''}${ext}`;
    out.push(file);
  }
  return out;
}

/** The hook envelope (Anthropic Messages) with the listing as the newest tool result. */
export function fileListingEnvelope(n = 400, sessionId = 'sess-file-listing'): Record<string, unknown> {
  return {
    metadata: { provider: 'anthropic', model: 'claude-sonnet-4-5', session_id: sessionId },
    request_body: {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'You are a coding agent working in a TypeScript repository.',
      tools: [{ name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
      messages: [
        { role: 'user', content: 'Where is the billing logic in this repo? List the files first.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'find . -type f -not -path "./node_modules/*"' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: fileListing(n).join('\n') }] },
      ],
      stream: true,
    },
  };
}
