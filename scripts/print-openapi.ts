/** `npx tsx scripts/print-openapi.ts`: the OpenAPI document on stdout, without a running API. */
import { openApiDocument } from './openapi-document.js';

process.stdout.write(`${JSON.stringify(await openApiDocument(), null, 2)}\n`);
