/**
 * A keyed bijection of [0, n) for any n ≤ 2^53: how unique columns stay unique across shards
 * without coordination. Row i's value is `permute(i)`; distinct rows get distinct values whatever
 * shard, worker or retry computes them.
 *
 * The permutation is a Feistel network on b = ⌈log2 n⌉ bits (halves of ⌈b/2⌉ and ⌊b/2⌋ bits that
 * alternate, as in NIST SP 800-38G's FF1), four rounds with a MurmurHash3-finaliser round function,
 * and cycle-walking: an output ≥ n is permuted again until it falls in [0, n). Since 2^b < 2n, a
 * value walks fewer than two times on average. Not a cipher worth the name; a good shuffle.
 */
import { mixWord } from '../../data/rng.js';

const ROUNDS = 4;

export interface Permutation {
  readonly size: number;
  /** The image of x ∈ [0, size). */
  apply(x: number): number;
}

export function createPermutation(size: number, key: number): Permutation {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`permutation size ${size}`);
  let bits = 2;
  while (2 ** bits < size) bits++;
  const hiBits = Math.ceil(bits / 2);
  const loBits = bits - hiBits;
  const roundKeys = Int32Array.from({ length: ROUNDS }, (_, r) => mixWord(mixWord(key | 0, r + 1), bits));
  const hiSize = 2 ** hiBits;
  const loSize = 2 ** loBits;
  const hiMask = hiSize - 1;
  const loMask = loSize - 1;
  const [k0, k1, k2, k3] = roundKeys as unknown as [number, number, number, number];
  // Round function: a MurmurHash3-style finaliser of (half ^ round key): two multiplies.
  const round = (k: number, c: number): number => {
    let h = Math.imul(c ^ k, 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    return h ^ (h >>> 13);
  };
  // x = a · 2^lo + c; each round moves c up and mixes it into a (halves of hi and lo bits alternate).
  const once =
    bits <= 32
      ? (x: number): number => {
          const a = x >>> loBits;
          const c = x & loMask;
          const c1 = (a + round(k0, c)) & hiMask; // halves now (c: lo bits, c1: hi bits)
          const c2 = (c + round(k1, c1)) & loMask; // (c1: hi, c2: lo)
          const c3 = (c1 + round(k2, c2)) & hiMask; // (c2: lo, c3: hi)
          const c4 = (c2 + round(k3, c3)) & loMask; // (c3: hi, c4: lo)
          return ((c3 << loBits) | c4) >>> 0;
        }
      : (x: number): number => {
          const a = Math.floor(x / loSize);
          const c = x - a * loSize;
          const c1 = (a + round(k0, c)) & hiMask;
          const c2 = (c + round(k1, c1)) & loMask;
          const c3 = (c1 + round(k2, c2)) & hiMask;
          const c4 = (c2 + round(k3, c3)) & loMask;
          return c3 * loSize + c4;
        };
  return {
    size,
    apply(x) {
      let y = once(x);
      while (y >= size) y = once(y);
      return y;
    },
  };
}
