/** How a job is shown to people (jobs show, the end of a watch). */
import type { Job } from '../client/index.js';
import { bytes, int } from './format.js';
import { line } from './progress.js';

/** A job in a few lines. */
export function describeJob(j: Job): string {
  const out = [`${j.id}  ${j.kind}  ${j.status}`, `  created ${j.createdAt}${j.finishedAt ? `, finished ${j.finishedAt}` : ''}`];
  if (j.progress) out.push(`  ${line({ ...j.progress, status: j.status })}`);
  if (j.result) {
    const files = `${j.result.files.length} ${j.result.files.length === 1 ? 'file' : 'files'} (${bytes(j.result.files.reduce((s, f) => s + f.bytes, 0))})`;
    // A kind whose unit is not rows (emissions: activities, written to Postgres) says what it did, then its files.
    const unit = j.progress?.unit ?? 'rows';
    const what = unit === 'rows' ? `${int(j.result.rows)} rows in ${files}` : `${int(j.progress!.done)} ${unit}; ${files}`;
    out.push(`  result: ${what}${j.result.digest ? `, digest ${j.result.digest}` : ''}`);
    if (j.result.load) out.push(`  loaded into ${j.result.load.schema}: ${j.result.load.tables.map((t) => `${t.name} ${int(t.rows)}`).join(', ')}`);
  }
  if (j.error) out.push(`  error: ${j.error.type}: ${j.error.message}`);
  return out.join('\n');
}
