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

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const stdio: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};
