/** Every store's schema in the shared database, in the order `migrate` applies them. */
import type { ComponentSchema } from '../../storage/postgres/migrate.js';
import { statsSchema } from '../stats/store/pg-schema.js';
import { budgetSchema } from '../controls/budget/pg-schema.js';
import { ccrSchema } from '../../originals/pg-schema.js';

export const ALL_SCHEMAS: readonly ComponentSchema[] = [statsSchema, budgetSchema, ccrSchema];
