/**
 * Sets of shard indexes as sorted, disjoint, non-adjacent inclusive ranges: how completed shards
 * are carried across continue-as-new (5,200 completed shards are one range). Pure.
 */
export type Ranges = Array<[number, number]>;

/** Adds i, merging with the neighbours it touches. Returns a new list; `ranges` is not changed. */
export function addToRanges(ranges: Ranges, i: number): Ranges {
  const out: Ranges = [];
  let lo = i;
  let hi = i;
  let placed = false;
  for (const [a, b] of ranges) {
    if (b < lo - 1) out.push([a, b]);
    else if (a > hi + 1) {
      if (!placed) out.push([lo, hi]), (placed = true);
      out.push([a, b]);
    } else {
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  if (!placed) out.push([lo, hi]);
  return out;
}

export function inRanges(ranges: Ranges, i: number): boolean {
  for (const [a, b] of ranges) if (i >= a && i <= b) return true;
  return false;
}

export function countRanges(ranges: Ranges): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}
