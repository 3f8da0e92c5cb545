import { defineConfig } from 'drizzle-kit';

// Only `generate` is used: migrations are applied at start by src/db/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './src/db/migrations',
  casing: 'snake_case',
  strict: true,
});
