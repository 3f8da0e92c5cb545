/**
 * The `patients` kind: casualties of a military medical exercise (docs/PATIENTS.md). The spec names
 * a scenario (a built-in preset, or a stored scenario of the tenant by id and version), resolved
 * once at submission and stored in the job's spec, so the job is reproducible whatever happens to
 * the stored scenario later. The plan is one segment over patient indices; each shard generates its
 * patients on the shard thread (shard.ts) and writes every table of the format for the same range.
 * finalize writes `summary.json` from the shards' exact counts (summary.ts).
 */
import { randomInt } from 'node:crypto';
import { siblingModule, SpecError, type Kind } from '../../engine/kind.js';
import type { TablePlan } from '../../engine/types.js';
import { isPreset, normalizeScenario, patientCount, PRESETS, type ResolvedScenario } from './scenario.js';
import { PatientsSpecSchema, type PatientsSpec, type PatientsSpecBody } from './spec.js';
import { findScenario } from './store.js';
import { PatientStats, summaryReport, TOTALS_PREFIX } from './summary.js';
import { patientTables } from './tables.js';

export const PATIENTS_DEFAULT_SCENARIO = 'default';

export const patients: Kind = {
  name: 'patients',
  unit: 'patients',
  spec: PatientsSpecSchema,
  formats: ['ndjson', 'csv', 'parquet', 'fhir', 'fhir-bulk'],
  sizePath: 'spec.count',
  // A patient is ~60 µs to generate and 25–300 µs to write (ndjson … FHIR): ~100 trial rows' worth.
  unitCost: 100,
  example: { count: 10000, seed: 42, scenario: 'article5' },
  async normalize(body, ctx) {
    const b = body as PatientsSpecBody;
    const ref = b.scenario ?? PATIENTS_DEFAULT_SCENARIO;
    let resolved: ResolvedScenario;
    let version: number | undefined;
    if (isPreset(ref)) {
      if (b.scenarioVersion !== undefined) throw new SpecError(422, [{ path: 'spec.scenarioVersion', message: `"${ref}" is a built-in preset, which has no versions` }]);
      resolved = normalizeScenario({ preset: ref });
    } else {
      const found = ctx.sql ? await findScenario(ctx.sql, ctx.tenantId, ref, b.scenarioVersion) : undefined;
      if (!found) {
        const latest = b.scenarioVersion !== undefined && ctx.sql ? await findScenario(ctx.sql, ctx.tenantId, ref) : undefined;
        if (latest) throw new SpecError(422, [{ path: 'spec.scenarioVersion', message: `scenario ${ref} has versions 1 to ${latest.latestVersion}` }]);
        throw new SpecError(422, [{ path: 'spec.scenario', message: `no scenario "${ref}": neither a preset (${Object.keys(PRESETS).join(', ')}) nor one of your scenarios (GET /v1/scenarios)` }]);
      }
      resolved = found.resolved;
      version = found.version;
    }
    const spec: PatientsSpec = {
      count: b.count ?? patientCount(resolved),
      // The seed is always recorded, so the same job can be run again to the same bytes.
      seed: b.seed ?? randomInt(0, 2 ** 47),
      scenario: ref,
      ...(version !== undefined ? { scenarioVersion: version } : {}),
      resolvedScenario: resolved,
    };
    return { spec: spec as unknown as Record<string, unknown>, units: spec.count };
  },
  async plan(input) {
    const spec = input.spec as unknown as PatientsSpec;
    const tables: TablePlan[] = patientTables(input.output.format).map((t) => (t.child ? { name: t.name, rows: 0, rowsFromFiles: true, columns: t.schema } : { name: t.name, rows: spec.count, columns: t.schema }));
    return { tables, segments: [{ table: 'patients', start: 0, end: spec.count, units: spec.count }] };
  },
  shardModule: siblingModule(import.meta.url, './shard'),
  privateTotalsPrefix: TOTALS_PREFIX,
  /** summary.json beside the data, from the shards' exact counts; its headline is the job result's summary. */
  async finalize(input, _plan, ctx) {
    const spec = input.spec as unknown as PatientsSpec;
    const report = summaryReport(spec.count, spec.resolvedScenario, PatientStats.fromTotals(Date.parse(spec.resolvedScenario.start), ctx.totals));
    // summary.json, or summary.json.enc for an encrypted job.
    const file = await ctx.writeFile('summary.json', Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8'));
    return { files: [file], result: { summary: { summary: file.name, patients: report.patients, byOutcome: report.byOutcome, byTriage: report.byTriage } } };
  },
};
