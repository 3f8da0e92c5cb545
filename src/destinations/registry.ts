/** Destination registry: each kind's module calls registerDestination() when loaded (see types.ts). */
import type { Destination, DestinationFactory, DestinationTarget } from './types.js';

const destinations = new Map<string, DestinationFactory>();

export function registerDestination<T extends DestinationTarget>(f: DestinationFactory<T>): void {
  if (destinations.has(f.kind)) throw new Error(`destination ${f.kind} registered twice`);
  destinations.set(f.kind, f as unknown as DestinationFactory);
}

export async function openDestination(target: DestinationTarget): Promise<Destination> {
  const f = destinations.get(target.kind);
  if (!f) throw new Error(`unknown destination kind ${JSON.stringify(target.kind)} (one of ${[...destinations.keys()].join(', ')})`);
  return f.open(target);
}

export function destinationKinds(): string[] {
  return [...destinations.keys()];
}
