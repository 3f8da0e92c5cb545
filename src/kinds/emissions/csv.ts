/**
 * One CSV line (RFC 4180: a field may be quoted, `""` inside quotes is a quote) into its fields;
 * null when a quote is left open. Used for the bundled data files, the EPA's file and CSV ingest.
 */
export function csvCells(line: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  if (quoted) return null;
  out.push(cur);
  return out;
}
