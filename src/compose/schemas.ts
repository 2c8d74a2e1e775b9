/**
 * Every store's schema in the shared database, in the order `headroom-ts migrate` applies
 * them (a running proxy migrates each store's component when the store starts).
 */
import type { ComponentSchema } from '../storage/postgres/migrate.js';
import { statsSchema } from '../capabilities/stats/store/pg-schema.js';
import { budgetSchema } from '../capabilities/controls/budget/pg-schema.js';
import { ccrSchema } from '../originals/pg-schema.js';
import { replaySchema } from '../compress/pg-replay.js';
import { hookSchema } from '../capabilities/hook/pg-settings.js';

export const ALL_SCHEMAS: readonly ComponentSchema[] = [statsSchema, budgetSchema, ccrSchema, replaySchema, hookSchema];
