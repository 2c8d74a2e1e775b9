/**
 * The layering of headroom-ts, checked by `npm test` (test/layering.test.ts) with
 * dependency-cruiser. The units:
 *   - core (`src/core`): the App, router, funnel, outcome, logger, plugin contract;
 *   - capabilities (`src/capabilities/<name>`): plugins installed on the App;
 *   - libraries (`src/compress`, `src/originals`, `src/savings`, `src/providers`, `src/config`,
 *     `src/storage`, `src/mock`, `src/sdk`, `src/routing`, `src/translate`, `src/util`, `src/version.ts`): know nothing of the App;
 *   - composition roots (`src/compose`, `src/cli`, `src/index.ts`): may import anything.
 */
const LIBRARIES = '^src/(compress|originals|savings|providers|config|storage|mock|sdk|routing|translate|util)/|^src/version[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No module may load itself through others. Types that refer to each other inside one folder (the App and its plugin context) are erased at run time and allowed; between folders, no-folder-cycles forbids them too.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No cycle between folders: core, each capability and each library form a directed graph.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-no-capability',
      comment: 'The core knows no capability, not even its types: capabilities register on it.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/(capabilities|compose|cli)/|^src/index[.]ts$' },
    },
    {
      name: 'libraries-import-no-app',
      comment: 'Libraries know nothing of the App: no core, no capability, no composition root.',
      severity: 'error',
      from: { path: LIBRARIES },
      to: { path: '^src/(core|capabilities|compose|cli)/|^src/index[.]ts$' },
    },
    {
      name: 'capabilities-use-each-other-through-api',
      comment:
        "A capability reaches another only through the other's declared services and types: its api.ts. Never its implementation.",
      severity: 'error',
      from: { path: '^src/capabilities/([^/]+)/' },
      to: {
        path: '^src/capabilities/[^/]+/',
        pathNot: ['^src/capabilities/$1/', '^src/capabilities/[^/]+/api[.]ts$'],
      },
    },
    {
      name: 'capability-api-imports-are-type-only',
      comment: "Another capability's api.ts is imported for its types only (`import type`): services are looked up through the App.",
      severity: 'error',
      from: { path: '^src/capabilities/([^/]+)/' },
      to: {
        path: '^src/capabilities/[^/]+/api[.]ts$',
        pathNot: '^src/capabilities/$1/',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'capabilities-import-no-composition',
      comment: 'Capabilities do not import the composition roots (which import them).',
      severity: 'error',
      from: { path: '^src/capabilities/' },
      to: { path: '^src/(compose|cli)/|^src/index[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/capabilities/dashboard/ui/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
