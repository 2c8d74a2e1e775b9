import { field } from '../field.js';

/** The web dashboard at `/dashboard`. */
export const dashboardFields = {
  dashboard: field.bool({
    flag: 'dashboard', env: ['HEADROOM_DASHBOARD'], default: true, group: 'dashboard',
    doc: 'Serve the web dashboard at `/dashboard` (bundled, works offline; its data comes from the token-gated `/stats`, `/stats-history` and `/metrics/*` endpoints).',
  }),
} as const;
