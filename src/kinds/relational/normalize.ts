/**
 * A relational spec's semantics, checked once when a job is submitted: defaults and the seed
 * recorded, refs and cycles, exact row counts (perParent draws included), room for every unique
 * column. Refusals are 422s naming the field (`spec.tables.1.columns.3.table`).
 */
import { randomInt } from 'node:crypto';
import { SpecError, type FieldError, type Normalized } from '../../engine/kind.js';
import { computeLayouts } from './layout.js';
import { RELATIONAL_LIMITS, type RelationalSpecBody } from './schema.js';
import { resolveRelationalSpec, uniqueRoom, type RelationalLimits, type RelationalSpec } from './spec.js';

export function normalizeRelational(body: RelationalSpecBody, limits: RelationalLimits): Normalized & { resolved: RelationalSpec } {
  const seed = body.seed ?? randomInt(0, 2 ** 47);
  const { spec, errors } = resolveRelationalSpec(body, seed, limits);
  if (errors.length) throw new SpecError(422, errors);
  const { rows } = computeLayouts(spec);
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
