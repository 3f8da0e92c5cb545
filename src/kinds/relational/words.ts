/**
 * Bundled word lists (data/README.md says where they come from): first names and surnames with
 * their US Census 1990 frequencies, and the words of "Lorem ipsum" (Cicero, De finibus 1.32–33).
 * Read once per process (or shard thread), on first use.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface WeightedList {
  values: string[];
  weights: number[];
}

const dataFile = (name: string) => fileURLToPath(new URL(`../../../data/${name}`, import.meta.url));

function readWeighted(name: string): WeightedList {
  const lines = readFileSync(dataFile(name), 'utf8').trim().split('\n').slice(1);
  const values: string[] = [];
  const weights: number[] = [];
  for (const line of lines) {
    const [value, weight] = line.split(',');
    values.push(value!);
    weights.push(Number(weight));
  }
  return { values, weights };
}

let firstNames: WeightedList | undefined;
let lastNames: WeightedList | undefined;
let words: string[] | undefined;

export const FIRST_NAMES = () => (firstNames ??= readWeighted('names/first-names.csv'));
export const LAST_NAMES = () => (lastNames ??= readWeighted('names/last-names.csv'));
export const WORDS = () => (words ??= readFileSync(dataFile('words.txt'), 'utf8').trim().split('\n'));

/** Domains reserved for examples (RFC 2606): no generated address reaches a real mailbox. */
export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;
