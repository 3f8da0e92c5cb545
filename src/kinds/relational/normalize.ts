/**
 * A relational spec's semantics, checked once when a job is submitted: defaults and the seed
 * recorded, refs and cycles, exact row counts (perParent draws included), room for every unique
 * column. Refusals are 422s naming the field (`spec.tables.1.columns.3.table`).
 */
import { randomInt } from 'node:crypto';
import { SpecError, type FieldError, type Normalized } from '../../engine/kind.js';
import { computeLayouts, computeLayoutsAsync, LayoutTooLarge, type Layouts } from './layout.js';
import { RELATIONAL_LIMITS, type RelationalSpecBody } from './schema.js';
import { resolveRelationalSpec, uniqueRoom, type RelationalLimits, type RelationalSpec } from './spec.js';

export type NormalizedRelational = Normalized & { resolved: RelationalSpec };

/** Defaults, the seed, and every check that needs no row counts. */
function resolve(body: RelationalSpecBody, limits: RelationalLimits): RelationalSpec {
  const seed = body.seed ?? randomInt(0, 2 ** 47);
  const { spec, errors } = resolveRelationalSpec(body, seed, limits);
  if (errors.length) throw new SpecError(422, errors);
  return spec;
}

/** The checks that need the row counts: the total, room for unique values, refs to empty tables. */
function withRows(spec: RelationalSpec, rows: number[]): NormalizedRelational {
  const more: FieldError[] = [];
  const total = rows.reduce((a, b) => a + b, 0);
  if (total > RELATIONAL_LIMITS.rowsMax) more.push({ path: 'spec.tables', message: `${total} rows in all; at most ${RELATIONAL_LIMITS.rowsMax}` });
  const index = new Map(spec.tables.map((t, i) => [t.name, i]));
  spec.tables.forEach((t, i) => {
    t.columns.forEach((c, j) => {
      const at = `spec.tables.${i}.columns.${j}`;
      if ('unique' in c && c.unique) {
        const room = uniqueRoom(c);
        if (room !== undefined && rows[i]! > room) {
          more.push({ path: `${at}.unique`, message: `${rows[i]} unique values do not fit in the ${room} that ${c.name} can take` });
        }
      }
      if (c.type === 'ref' && c.nullRate < 1 && rows[index.get(c.table)!] === 0) {
        more.push({ path: `${at}.table`, message: `table ${c.table} has no rows to reference (set nullRate 1, or give it rows)` });
      }
    });
  });
  if (more.length) throw new SpecError(422, more);
  return { spec: spec as unknown as Record<string, unknown>, resolved: spec, units: total };
}

function tooLarge(err: unknown): never {
  if (err instanceof LayoutTooLarge) throw new SpecError(422, [{ path: `spec.tables.${err.table}.rows`, message: err.message }]);
  throw err;
}

/** Synchronous (tests, benchmarks): the layouts are computed on this thread in one go. */
export function normalizeRelational(body: RelationalSpecBody, limits: RelationalLimits): NormalizedRelational {
  const spec = resolve(body, limits);
  let layouts: Layouts;
  try {
    layouts = computeLayouts(spec);
  } catch (err) {
    tooLarge(err);
  }
  return withRows(spec, layouts.rows);
}

/** What the API runs: the perParent draws let the event loop run between slices. */
export async function normalizeRelationalAsync(body: RelationalSpecBody, limits: RelationalLimits): Promise<NormalizedRelational> {
  const spec = resolve(body, limits);
  const layouts = await computeLayoutsAsync(spec).catch(tooLarge);
  return withRows(spec, layouts.rows);
}
