/**
 * What `npm run dev` prints: one line format for its own lines and its children's,
 * `HH:MM:SS LEVEL message key=value …` (UTC, as pino's ISO time), after a `[dev]`/`[api]`/`[worker]`
 * prefix. Children log pino JSON lines; a line in the Temporal SDK's own format
 * (`2026-01-01T12:00:01.234Z [INFO] message { meta }`) is brought to the same shape; anything else
 * passes through unchanged.
 */

export type Paint = (code: number, s: string) => string;

export const painter = (color: boolean): Paint => (color ? (code, s) => `\x1b[${code}m${s}\x1b[0m` : (_code, s) => s);

const LEVEL_COLOR: Record<string, number> = { trace: 90, debug: 90, info: 32, warn: 33, error: 31, fatal: 31 };
const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** `12:00:01` (UTC) of an ISO time, epoch milliseconds or now. */
export function clock(time: string | number | Date = new Date()): string {
  return (typeof time === 'string' ? time : new Date(time).toISOString()).slice(11, 19);
}

function line(ts: string, level: string, message: string, extras: string, paint: Paint): string {
  const lvl = paint(LEVEL_COLOR[level] ?? 0, level.toUpperCase().padEnd(5));
  return `${paint(90, ts)} ${lvl} ${message}${extras ? ` ${paint(90, extras)}` : ''}`;
}

/** One line of the supervisor itself (warnings in colour). */
export function devLine(level: 'info' | 'warn', message: string, paint: Paint, now: Date = new Date()): string {
  return line(clock(now), level, level === 'warn' ? paint(33, message) : message, '', paint);
}

const SDK_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) \[(TRACE|DEBUG|INFO|WARN|ERROR)\] (.*)$/;

/** A child's line: pino JSON → `12:00:01 INFO  message key=value …`; the SDK's format likewise; anything else unchanged. */
export function formatChildLine(text: string, paint: Paint): string {
  const sdk = SDK_LINE.exec(text);
  if (sdk) return line(clock(sdk[1]!), sdk[2]!.toLowerCase(), sdk[3]!, '', paint);
  if (!text.startsWith('{')) return text;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const { level, time, msg, name: _name, pid: _pid, hostname: _host, err, ...rest } = o;
  const lvl = typeof level === 'number' ? (PINO_LEVELS[level] ?? String(level)) : String(level ?? '');
  const ts = typeof time === 'string' || typeof time === 'number' ? clock(time) : '';
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  let out = line(ts, lvl, String(msg ?? ''), extras, paint);
  if (err && typeof err === 'object') {
    const e = err as { stack?: string; message?: string };
    out += `\n${e.stack ?? e.message ?? JSON.stringify(err)}`;
  }
  return out;
}
