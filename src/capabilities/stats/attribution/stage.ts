/**
 * The `attribution` proxy stage: names the session and the user of a request (hashed, see
 * `ids.ts`) on `ext.attribution`, from the headers and the body the proxy already parsed.
 * It runs first, so requests refused by a later stage (rate limit, budget) are attributed too.
 */
import type { Exchange, ProxyStage } from '../../proxy/api.js';
import { attributionIds } from './ids.js';
import type {} from '../api.js';

export const ATTRIBUTION_STAGE_ORDER = 10;

export const attributionStage: ProxyStage = {
  name: 'attribution',
  order: ATTRIBUTION_STAGE_ORDER,
  beforeUpstream(ex: Exchange) {
    const ids = attributionIds(ex.req.headers, ex.route.api, ex.json);
    if (ids.session !== null || ids.user !== null) ex.rec.ext.attribution = ids;
  },
};
