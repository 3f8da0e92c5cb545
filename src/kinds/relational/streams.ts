/**
 * Random streams by name: a column's values depend on (seed, table name, column name, row), so
 * adding, removing or reordering other columns or tables changes none of them.
 */
import { fmix32, mixWord } from '../../data/rng.js';

/** A 32-bit stream number for (table, what): what is a column name or a `#purpose`. */
export function nameStream(table: string, what: string): number {
  let h = 0x5f3759df;
  const s = `${table}\u0000${what}`;
  for (let i = 0; i < s.length; i++) h = mixWord(h, s.charCodeAt(i));
  return fmix32(h ^ s.length) | 0;
}
