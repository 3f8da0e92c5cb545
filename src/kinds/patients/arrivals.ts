/**
 * When casualties happen: an hourly intensity curve over the exercise, so a patient's time of
 * injury is an inverse-CDF lookup of its own uniform (patient i's time never depends on the shard).
 *
 * curve(h) = background(h) + Σ events(h), where
 *   background(h) = N_bg · tempo(h / H) · diurnal(hour of day) / Σ(…)   (normalised to N_bg casualties)
 *   event_k(h)    = n_k / hours_k inside the event's window, 0 elsewhere
 * The component a patient belongs to (background or event k) is drawn from the components'
 * shares of that hour, so events are visible as peaks of arrivals in their windows.
 */
import type { ResolvedScenario, Tempo, Warfare } from './scenario.js';

/**
 * Daily rhythm by warfare type: hours of day with more casualties (×PEAK) and the factor for night
 * hours (22:00–05:59). Modelling assumptions, not sourced figures (docs/PATIENTS.md § Rhythm).
 */
export const RHYTHM: Record<Warfare, { peakHours: number[]; night: number }> = {
  conventional: { peakHours: [5, 6, 7, 8, 16, 17, 18], night: 0.4 },
  artillery: { peakHours: [4, 5, 6, 18, 19, 20], night: 0.7 },
  urban: { peakHours: [9, 10, 11, 12, 13, 14, 15], night: 0.5 },
  guerrilla: { peakHours: [4, 5, 6, 21, 22, 23], night: 1.2 },
  drone: { peakHours: [7, 8, 9, 10, 11, 12, 13, 14, 15, 16], night: 0.6 },
  naval: { peakHours: [], night: 0.9 },
  cbrn: { peakHours: [6, 7, 8, 9], night: 0.6 },
  peacekeeping: { peakHours: [8, 9, 10, 11, 12, 13, 14, 15, 16, 17], night: 0.3 },
};
const PEAK = 1.8;

export function tempoFactor(tempo: Tempo, x: number, days: number): number {
  switch (tempo) {
    case 'sustained':
      return 1;
    case 'escalating':
      return 0.4 + 1.2 * x;
    case 'declining':
      return 1.6 - 1.2 * x;
    case 'surge':
      return 0.6 + 2.4 * Math.exp(-(((x - 0.3) / 0.1) ** 2));
    case 'intermittent':
      // Two days of activity, one quiet, repeated.
      return Math.floor(x * days) % 3 === 2 ? 0.3 : 1.3;
  }
}

export function diurnalFactor(warfare: Warfare, hourOfDay: number, nightOperations: boolean): number {
  const r = RHYTHM[warfare];
  const night = hourOfDay >= 22 || hourOfDay < 6;
  let f = night ? (nightOperations ? Math.max(1, r.night) : r.night) : 1;
  if (r.peakHours.includes(hourOfDay)) f *= PEAK;
  return f;
}

export interface ArrivalCurve {
  startMs: number;
  hours: number;
  /** Cumulative casualties at the end of each hour (Float64Array of length hours). */
  cum: Float64Array;
  /** Expected casualties of each component per hour: [background, event 0, …] × hours. */
  parts: Float64Array[];
}

export function arrivalCurve(s: ResolvedScenario): ArrivalCurve {
  const startMs = Date.parse(s.start);
  const hours = Math.max(1, Math.round(s.durationDays * 24));
  const startHour = new Date(startMs).getUTCHours();
  const bg = new Float64Array(hours);
  let total = 0;
  for (let h = 0; h < hours; h++) {
    const w = tempoFactor(s.tempo, (h + 0.5) / hours, s.durationDays) * diurnalFactor(s.warfare, (startHour + h) % 24, s.environment.nightOperations);
    bg[h] = w;
    total += w;
  }
  for (let h = 0; h < hours; h++) bg[h] = (bg[h]! / total) * s.baseCasualties;
  const parts = [bg];
  for (const e of s.events) {
    const p = new Float64Array(hours);
    const t0 = (Date.parse(e.start) - startMs) / 3_600_000;
    const t1 = Math.min(hours, t0 + e.durationHours);
    // Spread n over [t0, t1) hour by hour, proportionally to each hour's overlap with the window.
    for (let h = Math.floor(t0); h < Math.ceil(t1); h++) {
      const overlap = Math.min(h + 1, t1) - Math.max(h, t0);
      if (overlap > 0) p[h] = (e.casualties * overlap) / (t1 - t0);
    }
    parts.push(p);
  }
  const cum = new Float64Array(hours);
  let c = 0;
  for (let h = 0; h < hours; h++) {
    for (const p of parts) c += p[h]!;
    cum[h] = c;
  }
  return { startMs, hours, cum, parts };
}

/** The time of injury (ms since the epoch) and the component (-1 background, else event index) for uniforms u, v, w. */
export function arrivalAt(curve: ArrivalCurve, u: number, v: number, w: number): { timeMs: number; event: number } {
  const total = curve.cum[curve.hours - 1]!;
  const target = u * total;
  // First hour whose cumulative count reaches the target.
  let lo = 0;
  let hi = curve.hours - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (curve.cum[mid]! >= target) hi = mid;
    else lo = mid + 1;
  }
  const h = lo;
  let pick = v * (curve.cum[h]! - (h > 0 ? curve.cum[h - 1]! : 0));
  let event = -1;
  for (let k = 0; k < curve.parts.length; k++) {
    pick -= curve.parts[k]![h]!;
    if (pick <= 0 || k === curve.parts.length - 1) {
      event = k - 1;
      break;
    }
  }
  // Uniform within the hour (an event that starts or ends inside an hour may spill over its edge by under an hour).
  return { timeMs: curve.startMs + (h + w) * 3_600_000, event };
}
