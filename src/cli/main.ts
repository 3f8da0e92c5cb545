/** Entry point of `shardflow` (bin/shardflow.mjs) and `npm run shardflow -- …`. */
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
