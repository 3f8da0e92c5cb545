/**
 * What every `shardflow` command shares: where output goes and the error that means "bad usage"
 * (exit 2). A leaf module: commands (keys.ts, …) and the dispatcher (cli.ts) both import it, so
 * neither imports the other's dependents back.
 */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command that ran but did not succeed: its message is printed, and the process exits with `code`. */
export class CommandFailed extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.name = 'CommandFailed';
    this.code = code;
  }
}

/** Exit codes: documented in docs/cli.md. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 3, interrupted: 130 } as const;

export interface CliIo {
  /** A line (or lines) of output; a newline is added when missing. */
  out: (text: string) => void;
  err: (text: string) => void;
  /** Raw text to the terminal, for redrawing a progress bar; only used when `tty` is true. */
  write?: (text: string) => void;
  /** Draw progress bars (stdout is a terminal)? Off by default: plain lines. */
  tty?: boolean;
  /** Terminal width for bars. */
  columns?: () => number;
  /** Can the user be asked a question (stdin is a terminal)? */
  interactive?: boolean;
}

export const stdio: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  write: (t) => process.stdout.write(t),
  tty: process.stdout.isTTY === true && process.env.TERM !== 'dumb',
  columns: () => process.stdout.columns || 100,
  interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
};
