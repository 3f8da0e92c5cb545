/**
 * How a job's progress is shown: a bar redrawn in place on a terminal, plain lines elsewhere
 * (a line when the status or phase changes, at every tenth of the job, and at least every 10 s),
 * NDJSON with --json. One renderer per watch; `line()` is pure and tested on its own.
 */
import type { CliIo } from './io.js';
import { compact, duration, int } from './format.js';

export interface ProgressSnapshot {
  status: string;
  unit?: string;
  done?: number;
  total?: number;
  fraction?: number;
  ratePerSecond?: number | null;
  etaSeconds?: number | null;
  shards?: { total: number; completed: number; running: number };
  phase?: string | null;
}

/** `running 45.0% 450,000/1,000,000 rows · 2.1M rows/s · ETA 3s · shards 4/10 done, 2 running` */
export function line(p: ProgressSnapshot): string {
  const unit = p.unit ?? 'rows';
  const pct = p.fraction === undefined ? '' : ` ${(p.fraction * 100).toFixed(1)}%`;
  const parts = [`${p.status}${p.phase && !['running', 'done'].includes(p.phase) && p.phase !== p.status ? ` (${p.phase})` : ''}${pct} ${int(p.done)}/${int(p.total)} ${unit}`];
  if (p.ratePerSecond) parts.push(`${compact(p.ratePerSecond)} ${unit}/s`);
  if (p.etaSeconds !== null && p.etaSeconds !== undefined) parts.push(`ETA ${duration(p.etaSeconds)}`);
  if (p.shards) parts.push(`shards ${p.shards.completed}/${p.shards.total} done, ${p.shards.running} running`);
  return parts.join(' · ');
}

/** A bar of `width` cells for a fraction in [0, 1]. */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction || 0));
  const full = Math.floor(f * width);
  return '█'.repeat(full) + (full < width ? '░'.repeat(width - full) : '');
}

export interface Renderer {
  progress(p: ProgressSnapshot): void;
  /** A message between updates (a reconnect); the bar is redrawn after it. */
  note(text: string): void;
  /** Clears the bar (before a question or the final line). */
  clear(): void;
  /** While held (a question is on screen), updates are kept but not drawn. */
  hold(on: boolean): void;
}

export function createRenderer(io: CliIo, opts: { json: boolean; label: string; now?: () => number }): Renderer {
  const now = opts.now ?? Date.now;
  const tty = !opts.json && io.tty === true && typeof io.write === 'function';
  let drawn = false;
  let last: { key: string; tenth: number; at: number } | undefined;
  let lastSnapshot: ProgressSnapshot | undefined;
  let held = false;

  const draw = (p: ProgressSnapshot) => {
    const width = Math.max(40, Math.min(io.columns?.() ?? 100, 160));
    const text = `${opts.label} ${line(p)}`;
    const barWidth = Math.max(10, Math.min(30, width - text.length - 4));
    const full = `${bar(p.fraction ?? 0, barWidth)} ${text}`;
    io.write!(`\r\x1b[2K${full.length > width - 1 ? full.slice(0, width - 2) + '…' : full}`);
    drawn = true;
  };
  const clear = () => {
    if (tty && drawn) io.write!('\r\x1b[2K');
    drawn = false;
  };

  return {
    progress(p) {
      lastSnapshot = p;
      if (held) return;
      if (opts.json) {
        io.out(JSON.stringify({ event: 'progress', ...p }));
        return;
      }
      if (tty) return draw(p);
      const key = `${p.status}/${p.phase ?? ''}`;
      const tenth = Math.floor((p.fraction ?? 0) * 10);
      const t = now();
      if (!last || last.key !== key || tenth > last.tenth || t - last.at >= 10_000) {
        io.out(`${opts.label} ${line(p)}`);
        last = { key, tenth, at: t };
      }
    },
    note(text) {
      if (opts.json) {
        io.out(JSON.stringify({ event: 'note', message: text }));
        return;
      }
      clear();
      io.err(text);
      if (tty && lastSnapshot) draw(lastSnapshot);
    },
    clear,
    hold(on) {
      held = on;
      if (!on && tty && lastSnapshot) draw(lastSnapshot);
    },
  };
}
