/**
 * `summary.json` of a patients job: counts by front, nationality, injury category, triage and
 * outcome; casualties per day; the census of every role per hour. Pure.
 *
 * Each shard adds its patients into integer counts keyed by name (engine totals `patients.s.…`),
 * which the engine adds up across shards: the merged counts are exact and the same for any shard
 * size. Occupancy: per role and 6-hour window from the exercise start, the whole seconds patients
 * spent there inside the window (each stay's overlap with the window, rounded to the second): an
 * integer per (role, window) that merges by addition too; the report divides by the window's
 * seconds, which gives the mean number of patients present in the window.
 */
import type { Patient } from './generate.js';
import { ROLES, type ResolvedScenario } from './scenario.js';

export const TOTALS_PREFIX = 'patients.s.';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hours per occupancy window. */
export const WINDOW_HOURS = 6;
const WINDOW = WINDOW_HOURS * HOUR;

const GROUPS = ['front', 'nationality', 'category', 'triage', 'outcome', 'severity', 'day', 'census'] as const;
type Group = (typeof GROUPS)[number];

export class PatientStats {
  readonly counts = new Map<string, number>();
  /** Occupancy seconds per role, indexed by window (kept apart from `counts`: a long stay spans many windows). */
  private readonly census = new Map<string, number[]>();
  constructor(private readonly start: number) {}

  private inc(group: Group, key: string, by = 1): void {
    const k = `${group}|${key}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + by);
  }

  private windows(role: string): number[] {
    let w = this.census.get(role);
    if (!w) this.census.set(role, (w = []));
    return w;
  }

  add(p: Patient): void {
    this.inc('front', p.front);
    this.inc('nationality', p.nationality);
    this.inc('category', p.injury.category);
    this.inc('triage', p.triage);
    this.inc('outcome', p.outcome.type);
    this.inc('severity', p.severity);
    this.inc('day', String(Math.floor((Date.parse(p.injury.time) - this.start) / DAY)));
    for (const s of p.stays) {
      const a = Date.parse(s.arrival) - this.start;
      const d = Date.parse(s.departure) - this.start;
      const census = this.windows(s.role);
      for (let w = Math.max(0, Math.floor(a / WINDOW)); w * WINDOW < d; w++) {
        const seconds = Math.round((Math.min(d, (w + 1) * WINDOW) - Math.max(a, w * WINDOW)) / 1000);
        if (seconds > 0) census[w] = (census[w] ?? 0) + seconds;
      }
    }
  }

  toTotals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.counts) out[TOTALS_PREFIX + k] = v;
    for (const [role, census] of this.census) census.forEach((v, w) => (out[`${TOTALS_PREFIX}census|${role}|${w}`] = v));
    return out;
  }

  static fromTotals(start: number, totals: Record<string, number> | undefined): PatientStats {
    const s = new PatientStats(start);
    for (const [k, v] of Object.entries(totals ?? {})) {
      if (!k.startsWith(TOTALS_PREFIX)) continue;
      const key = k.slice(TOTALS_PREFIX.length);
      if (key.startsWith('census|')) {
        const [, role, w] = key.split('|');
        s.windows(role!)[Number(w)] = v;
      } else s.counts.set(key, v);
    }
    return s;
  }

  group(g: Group): Record<string, number> {
    const out: Record<string, number> = {};
    if (g === 'census') {
      for (const [role, census] of this.census) census.forEach((v, w) => (out[`${role}|${w}`] = v));
      return out;
    }
    for (const [k, v] of this.counts) if (k.startsWith(`${g}|`)) out[k.slice(g.length + 1)] = v;
    return out;
  }
}

const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The report (`summary.json`). */
export function summaryReport(count: number, scenario: ResolvedScenario, stats: PatientStats) {
  const start = Date.parse(scenario.start);
  const byDay = stats.group('day');
  const lastDay = Math.max(scenario.durationDays - 1, ...Object.keys(byDay).map(Number));
  const census = stats.group('census');
  let windows = 0;
  for (const k of Object.keys(census)) windows = Math.max(windows, Number(k.split('|')[1]) + 1);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const occupancy = Object.fromEntries(
    ROLES.map((role) => {
      const seconds = Array.from({ length: windows }, (_, w) => census[`${role}|${w}`] ?? 0);
      let peak = 0;
      let peakWindow = 0;
      seconds.forEach((n, w) => n > peak && ((peak = n), (peakWindow = w)));
      const total = seconds.reduce((a, b) => a + b, 0);
      return [
        role,
        {
          patientHours: r2(total / 3600),
          peakMeanPresent: r2(peak / (WINDOW / 1000)),
          peakWindowStart: new Date(start + peakWindow * WINDOW).toISOString(),
          meanPresent: seconds.map((n) => r2(n / (WINDOW / 1000))),
        },
      ];
    }),
  );
  const outcomes = sorted(stats.group('outcome'));
  return {
    format: 'shardflow.patients-summary',
    version: 1,
    patients: count,
    scenario: scenario.name,
    start: scenario.start,
    durationDays: scenario.durationDays,
    byFront: sorted(stats.group('front')),
    byNationality: sorted(stats.group('nationality')),
    byCategory: sorted(stats.group('category')),
    byTriage: sorted(stats.group('triage')),
    bySeverity: sorted(stats.group('severity')),
    byOutcome: outcomes,
    casualtiesPerDay: Array.from({ length: lastDay + 1 }, (_, d) => ({ day: d, date: new Date(start + d * DAY).toISOString().slice(0, 10), casualties: byDay[String(d)] ?? 0 })),
    occupancy: { windowHours: WINDOW_HOURS, from: scenario.start, roles: occupancy },
  };
}

export type PatientsSummary = ReturnType<typeof summaryReport>;
