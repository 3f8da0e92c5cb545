/**
 * The trial generator's hot loops in WebAssembly (SIMD): kernel.wat beside this file, compiled
 * with wabt 1.0.39. Same values as the JS loops in rng.ts / generate.ts, which stay the reference
 * and the fallback where WebAssembly SIMD is missing. One instance per thread; not reentrant
 * (batch() is synchronous).
 */
import { normal4Lane, zigguratTables } from '../../data/rng.js';
import { CLINICAL_RANGES } from './model.js';

/** Rows per kernel step (the size of its row buffers). */
export const KERNEL_ROWS = 4096;

const KERNEL_WASM = 'AGFzbQEAAAABEwJgBn9/f39/fwF/YAV/f39/fwADAwIAAQUDAQAHBxcDA21lbQIAB25vcm1hbHMAAANtdm4AAQqmCwLKBQUGfwF7An8BfAF/AkADQCAGIANPDQEgAUHR2vjkfGxBD3dBk+uc3AFsIQcgACAHc0ENd0EFbEHk1tGyfmohCCACQdHa+OR8bEEPd0GT65zcAWwhByAIIAdzQQ13QQVsQeTW0bJ+aiEJIAlB9NLH5wNzQQ13QQVsQeTW0bJ+akEYcyEIIAggCEEQdnNB65Svr3hsIQggCCAIQQ12c0G13MqVfGwhCCAIIAhBEHZzIQogCf0R/QwAAAAAXZpTw7q03esXz2cU/VEhDCAMQQ39qwEgDEET/a0B/VAhDCAMQQX9Ef21AUHk1tGyfv0R/a4BQRj9Ef1RIQwgDCAMQRD9rQH9UUHrlK+veP0R/bUBIQwgDCAMQQ39rQH9UUG13MqVfP0R/bUBIQwgDCAMQRD9rQH9USEMIAQgBkEFdGohECAM/RsAIQ0gCkH/AXFBA3QhDiANtyEPIA+ZIA4rAwBjBEAgECAPIA4rA4AQojkDAAUgEEQAAAAAAAAAADkDACAFIAtBAnRqIAZBAnQ2AgAgC0EBaiELCyAM/RsBIQ0gCkEIdkH/AXFBA3QhDiANtyEPIA+ZIA4rAwBjBEAgECAPIA4rA4AQojkDCAUgEEQAAAAAAAAAADkDCCAFIAtBAnRqIAZBAnRBAWo2AgAgC0EBaiELCyAM/RsCIQ0gCkEQdkH/AXFBA3QhDiANtyEPIA+ZIA4rAwBjBEAgECAPIA4rA4AQojkDEAUgEEQAAAAAAAAAADkDECAFIAtBAnRqIAZBAnRBAmo2AgAgC0EBaiELCyAM/RsDIQ0gCkEYdkEDdCEOIA23IQ8gD5kgDisDAGMEQCAQIA8gDisDgBCiOQMYBSAQRAAAAAAAAAAAOQMYIAUgC0ECdGogBkECdEEDajYCACALQQFqIQsLIAFBAWohASABRQRAIAJBAWohAgsgBkEBaiEGDAALCyALC9cFAwR/IHsBfEHAICAAQaACbGohBSAF/QAEACEJIAX9AAQQIQogBf0ABCAhCyAF/QAEMCEMIAX9AARAIQ0gBf0ABFAhDiAF/QAEYCEPIAX9AARwIRAgBf0ABIABIREgBf0ABJABIRIgBf0ABKABIRMgBf0ABLABIRQgBf0ABMABIRUgBf0ABNABIRYgBf0ABOABIRcgBf0ABPABIRggBf0ABIACIRkgBf0ABJACIRpBgCD9AAQAIRtBkCD9AAQAIRxBoCD9AAQAIR1BsCD9AAQAIR4CQANAIAYgAk8NAUHAigIgAUEFdGohB0HAigogBEEFdGohCCAI/QoDACEfIAj9CgMIISAgCP0KAxAhISAI/QoDGCEiIAf9CgMAISMgB/0KAwghJCAH/QoDECElIAf9CgMYISYgCSALIB/98gH98AEhJyAnIAwgIP3yAf3wASEnICcgDSAh/fIB/fABIScgJyAOICL98gH98AEhJyAnIBMgI/3yAf3wASEnICcgFCAk/fIB/fABIScgJyAVICX98gH98AEhJyAnIBYgJv3yAf3wASEnIAogDyAf/fIB/fABISggKCAQICD98gH98AEhKCAoIBEgIf3yAf3wASEoICggEiAi/fIB/fABISggKCAXICP98gH98AEhKCAoIBggJP3yAf3wASEoICggGSAl/fIB/fABISggKCAaICb98gH98AEhKCAcIBsgJ/33Af32ASEnIB4gHSAo/fcB/fYBISggJ0QAAAAAAADgP/0U/fAB/XUhJ0HgihYgAUECdGogJ/0hAKo2AgBB4IoXIAFBAnRqICf9IQGqNgIAQeCKGCABQQJ0aiAo/SEARAAAAAAAAOA/oJyqNgIAICj9IQEhKUHgihkgAUEDdGogKUQAAAAAAAAkQKJEAAAAAAAA4D+gnEQAAAAAAAAkQKM5AwAgASADaiEBIARBAWohBCAGQQFqIQYMAAsLCw==';

// Byte offsets, as in kernel.wat.
const BOUNDS = 4096;
const COEF = 4160;
const Z = 34112;
const W = 165184;
const SLOW = 296288;
const OUT = 361824;
/** Groups (visit × arm) that fit the coefficient area. */
export const KERNEL_MAX_GROUPS = (Z - COEF) / 288;

interface Exports {
  mem: { buffer: ArrayBuffer };
  normals(key: number, lo: number, hi: number, n: number, z: number, slow: number): number;
  mvn(g: number, i: number, count: number, V: number, w: number): void;
}

// The global (lib "dom" is not in this project's tsconfig): only what is used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

export interface TrialKernel {
  /** Row normals, 4 per row of the step. */
  z: Float64Array;
  /** Subject normals, 4 per subject. */
  w: Float64Array;
  /** Group coefficients: 36 per group (mean01, mean23, F01[4], F23[4], L01[4], L23[4] as pairs). */
  coef: Float64Array;
  sbp: Int32Array;
  dbp: Int32Array;
  hr: Int32Array;
  temp: Float64Array;
  /** normals4(key, c0 + i) for i < n into z (or w): the fast path here, the rare slow lanes in JS. */
  normals(key: number, c0: number, n: number, into: 'z' | 'w'): void;
  /** mvn rows: step rows i + k·V from subject w + k of W, k < count, group g; outputs at the row. */
  mvn(g: number, i: number, count: number, V: number, w: number): void;
}

/** Set false to run the JS loops (tests compare both). */
export const kernelOptions = { enabled: true };

let kernel: TrialKernel | null | undefined = null; // null: not tried; undefined: unavailable

export function trialKernel(): TrialKernel | undefined {
  if (!kernelOptions.enabled) return undefined;
  if (kernel === null) kernel = load();
  return kernel;
}

function load(): TrialKernel | undefined {
  const R = CLINICAL_RANGES;
  const lows = [R.SystolicBP.min, R.DiastolicBP.min, R.HeartRate.min, R.Temperature.min * 10];
  if (lows.some((x) => !(x >= 0.5))) return undefined; // floor(x + 0.5) = Math.round(x) needs x ≥ 0.5
  let ex: Exports;
  try {
    ex = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNEL_WASM, 'base64'))).exports as Exports;
  } catch {
    return undefined;
  }
  const buf = ex.mem.buffer;
  const { kn, wn } = zigguratTables();
  new Float64Array(buf, 0, 256).set(kn);
  new Float64Array(buf, 2048, 256).set(wn);
  new Float64Array(buf, BOUNDS, 8).set([
    R.SystolicBP.min, R.DiastolicBP.min, R.SystolicBP.max, R.DiastolicBP.max,
    R.HeartRate.min, R.Temperature.min, R.HeartRate.max, R.Temperature.max,
  ]);
  const z = new Float64Array(buf, Z, 4 * KERNEL_ROWS);
  const w = new Float64Array(buf, W, 4 * (KERNEL_ROWS + 1));
  const slow = new Int32Array(buf, SLOW, 4 * KERNEL_ROWS);
  const TWO32 = 4294967296;
  return {
    z,
    w,
    coef: new Float64Array(buf, COEF, 36 * KERNEL_MAX_GROUPS),
    sbp: new Int32Array(buf, OUT, KERNEL_ROWS),
    dbp: new Int32Array(buf, OUT + 4 * KERNEL_ROWS, KERNEL_ROWS),
    hr: new Int32Array(buf, OUT + 8 * KERNEL_ROWS, KERNEL_ROWS),
    temp: new Float64Array(buf, OUT + 12 * KERNEL_ROWS, KERNEL_ROWS),
    normals(key, c0, n, into) {
      const out = into === 'z' ? z : w;
      const ns = ex.normals(key, c0 >>> 0, Math.floor(c0 / TWO32), n, into === 'z' ? Z : W, SLOW);
      for (let j = 0; j < ns; j++) {
        const idx = slow[j];
        out[idx] = normal4Lane(key, c0 + (idx >> 2), idx & 3);
      }
    },
    mvn: (g, i, count, V, wi) => ex.mvn(g, i, count, V, wi),
  };
}

/** The kernel's coefficient pairs of one group (see TrialKernel.coef) into out at 36·gi. */
export function packGroup(out: Float64Array, gi: number, mean: Float64Array, F: Float64Array, L: Float64Array): void {
  const o = 36 * gi;
  const m = 4 * gi;
  const l = 16 * gi;
  for (let k = 0; k < 4; k++) out[o + k] = mean[m + k];
  for (let k = 0; k < 4; k++) {
    out[o + 4 + 2 * k] = F[l + k];
    out[o + 5 + 2 * k] = F[l + 4 + k];
    out[o + 12 + 2 * k] = F[l + 8 + k];
    out[o + 13 + 2 * k] = F[l + 12 + k];
    out[o + 20 + 2 * k] = L[l + k];
    out[o + 21 + 2 * k] = L[l + 4 + k];
    out[o + 28 + 2 * k] = L[l + 8 + k];
    out[o + 29 + 2 * k] = L[l + 12 + k];
  }
}
