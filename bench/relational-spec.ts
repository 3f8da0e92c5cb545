/**
 * The relational bench's spec (bench/relational.ts, bench/relational-profile.ts): products 10,000 ←
 * customers rows/10 ← orders (poisson 3 per customer) ← order_items (poisson 2 per order), about
 * 10 × customers rows in all.
 */
import type { RelationalSpecBody } from '../src/kinds/relational/lib.js';

const SEED = 20261201;

export const PRODUCTS = 10_000;

/** ~10 × customers rows: products (fixed) ← customers ← orders (poisson 3) ← order_items (poisson 2). */
export function benchSpec(rows: number): RelationalSpecBody {
  const customers = Math.max(100, Math.round(rows / 10));
  return {
    seed: SEED,
    tables: [
      {
        name: 'products',
        rows: PRODUCTS,
        columns: [
          { name: 'id', type: 'id' },
          { name: 'sku', type: 'pattern', pattern: 'SKU-#####-??', unique: true },
          { name: 'name', type: 'text', minWords: 2, maxWords: 4 },
          { name: 'list_price', type: 'float', min: 1, max: 500, decimals: 2 },
        ],
      },
      {
        name: 'customers',
        rows: customers,
        columns: [
          { name: 'id', type: 'id' },
          { name: 'first_name', type: 'firstName' },
          { name: 'last_name', type: 'lastName' },
          { name: 'email', type: 'email', unique: true },
          { name: 'signed_up', type: 'date', min: '2015-01-01', max: '2025-12-31' },
          { name: 'segment', type: 'choice', values: ['retail', 'business', 'public'], weights: [6, 3, 1] },
        ],
      },
      {
        name: 'orders',
        rows: { perParent: 'customers', distribution: { poisson: 3 } },
        columns: [
          { name: 'id', type: 'id' },
          { name: 'customer_id', type: 'ref', table: 'customers' },
          { name: 'ordered_at', type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2025-12-31T23:59:59Z' },
          { name: 'amount', type: 'lognormal', mu: 3.5, sigma: 0.9, decimals: 2 },
          { name: 'status', type: 'choice', values: ['pending', 'paid', 'shipped', 'delivered', 'returned'], weights: [1, 2, 3, 8, 1], nullRate: 0.02 },
        ],
      },
      {
        name: 'order_items',
        rows: { perParent: 'orders', distribution: { poisson: 2 } },
        columns: [
          { name: 'id', type: 'id' },
          { name: 'order_id', type: 'ref', table: 'orders' },
          { name: 'product_id', type: 'ref', table: 'products', distribution: 'zipf', s: 1.1 },
          { name: 'quantity', type: 'int', min: 1, max: 10 },
          { name: 'unit_price', type: 'float', min: 1, max: 500, decimals: 2 },
        ],
      },
    ],
  } as RelationalSpecBody;
}
