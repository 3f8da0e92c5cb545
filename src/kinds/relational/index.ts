/**
 * The `relational` kind: multi-table datasets with exact row counts, keys, foreign keys and unique
 * columns, the same bytes for any partitioning; Parquet/CSV/NDJSON, and a Postgres load with its
 * constraints (output.postgres).
 */
import { siblingModule, type Kind } from '../../engine/kind.js';
import type { TablePlan } from '../../engine/types.js';
import { columnSchema } from './generate.js';
import { computeLayoutsAsync, type Layouts } from './layout.js';
import { normalizeRelationalAsync } from './normalize.js';
import { RelationalSpecSchema, type RelationalSpecBody } from './schema.js';
import type { RelationalPayload } from './shard.js';
import { DEFAULT_LIMITS, type RelationalLimits, type RelationalSpec } from './spec.js';

export const RELATIONAL_EXAMPLE = {
  seed: 42,
  tables: [
    {
      name: 'customers',
      rows: 100000,
      columns: [
        { name: 'id', type: 'id' },
        { name: 'first_name', type: 'firstName' },
        { name: 'last_name', type: 'lastName' },
        { name: 'email', type: 'email', unique: true },
        { name: 'signed_up', type: 'date', min: '2020-01-01', max: '2025-12-31' },
      ],
    },
    {
      name: 'orders',
      rows: { perParent: 'customers', distribution: { poisson: 3 } },
      columns: [
        { name: 'id', type: 'id' },
        { name: 'customer_id', type: 'ref', table: 'customers' },
        { name: 'sku', type: 'pattern', pattern: 'SKU-####-??' },
        { name: 'amount', type: 'lognormal', mu: 3, sigma: 0.8, decimals: 2 },
        { name: 'coupon', type: 'choice', values: ['NONE', 'TEN', 'FREESHIP'], weights: [8, 1, 1], nullRate: 0.2 },
      ],
    },
  ],
};

/** Tables with their keys: the id column is the primary key, unique columns are UNIQUE, refs are foreign keys. */
export function relationalTables(spec: RelationalSpec, layouts: Layouts): TablePlan[] {
  return spec.tables.map((t, i) => {
    const id = t.columns.find((c) => c.type === 'id');
    const unique = t.columns.filter((c) => 'unique' in c && c.unique).map((c) => [c.name]);
    const foreignKeys = t.columns.flatMap((c) => (c.type === 'ref' ? [{ columns: [c.name], table: c.table, refColumns: [spec.tables.find((p) => p.name === c.table)!.columns.find((p) => p.type === 'id')!.name] }] : []));
    return {
      name: t.name,
      rows: layouts.rows[i]!,
      columns: t.columns.map(columnSchema),
      ...(id ? { primaryKey: [id.name] } : {}),
      ...(unique.length ? { unique } : {}),
      ...(foreignKeys.length ? { foreignKeys } : {}),
    };
  });
}

export function createRelationalKind(limits: RelationalLimits = DEFAULT_LIMITS): Kind<RelationalPayload> {
  return {
    name: 'relational',
    unit: 'rows',
    spec: RelationalSpecSchema,
    formats: ['parquet', 'csv', 'ndjson'],
    postgresLoad: true,
    sizePath: 'spec.tables',
    example: RELATIONAL_EXAMPLE,
    async normalize(body) {
      return normalizeRelationalAsync(body as RelationalSpecBody, limits);
    },
    tableNames: (spec) => (spec as unknown as RelationalSpec).tables.map((t) => t.name),
    async plan(input) {
      const spec = input.spec as unknown as RelationalSpec;
      const layouts = await computeLayoutsAsync(spec);
      return {
        tables: relationalTables(spec, layouts),
        segments: spec.tables.flatMap((t, i) => (layouts.rows[i]! > 0 ? [{ table: t.name, start: 0, end: layouts.rows[i]!, units: layouts.rows[i]! }] : [])),
      };
    },
    async prepare(input) {
      const spec = input.spec as unknown as RelationalSpec;
      const layouts = await computeLayoutsAsync(spec);
      return {
        spec,
        rows: layouts.rows,
        children: [...layouts.children].map(([table, l]) => ({ table, parentRows: l.parentRows, offsets: Array.from(l.offsets) })),
      };
    },
    shardModule: siblingModule(import.meta.url, './shard'),
  };
}

export const relational = createRelationalKind();
