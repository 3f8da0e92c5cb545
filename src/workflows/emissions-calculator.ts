/**
 * The per-tenant emissions calculator (docs/EMISSIONS.md, "Event-driven mode"): workflow id
 * `emissions-calculator-<tenant>`, signalled-with-start by the API after every ingest that inserted
 * activities (src/api/routes/emissions.ts). It batches a burst: once signalled it waits until no
 * signal came for `debounceMs` (at most `maxWaitMs` in all), then calculates the tenant's pending
 * activities with ids above the lowest `fromId` the signals carried, through an activity (the kind's batch SQL, exactly once: src/kinds/emissions/calculator.ts),
 * and loops. After `maxIterations` calculations, or when Temporal suggests it (history size), it
 * continues as new, carrying whether a signal is still unserved. Idle for `idleMs`, it completes; the
 * next ingest starts it again.
 *
 * Deterministic: no I/O, no clock but workflow timers (sleep, condition); the activity is imported as a type.
 */
import { CancellationScope, condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { CalculatePendingResult, EmissionsActivities } from '../kinds/emissions/calculator.js';

export interface EmissionsCalculatorInput {
  tenantId: string;
  debounceMs?: number;
  maxWaitMs?: number;
  /** Calculations per run before continue-as-new. */
  maxIterations?: number;
  /** Completes after this long without a signal. */
  idleMs?: number;
  /** A signal the previous run did not serve: the lowest id to look from. */
  pendingFrom?: number;
  /** Runs so far (this one included), and totals carried over continue-as-new (for the query). */
  generation?: number;
  calculated?: number;
}

export interface EmissionsCalculatorState {
  generation: number;
  iterations: number;
  calculated: number;
  signals: number;
}

/** `fromId`: the ingest's ids are all above it (absent: look at every activity of the tenant). */
export interface IngestedSignal {
  fromId?: number;
}

export const activitiesIngestedSignal = defineSignal<[IngestedSignal]>('activitiesIngested');
export const calculatorStateQuery = defineQuery<EmissionsCalculatorState>('calculatorState');

export const emissionsCalculatorId = (tenantId: string) => `emissions-calculator-${tenantId}`;

const { calculatePendingEmissions } = proxyActivities<EmissionsActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function emissionsCalculatorWorkflow(input: EmissionsCalculatorInput): Promise<EmissionsCalculatorState> {
  const debounceMs = input.debounceMs ?? 500;
  const maxWaitMs = input.maxWaitMs ?? 2000;
  const maxIterations = input.maxIterations ?? 500;
  const idleMs = input.idleMs ?? 3_600_000;
  const state: EmissionsCalculatorState = { generation: input.generation ?? 1, iterations: 0, calculated: input.calculated ?? 0, signals: 0 };
  let unserved = input.pendingFrom !== undefined ? 1 : 0;
  /** The lowest id an unserved signal asked to look from. */
  let from = input.pendingFrom ?? Infinity;
  setHandler(activitiesIngestedSignal, (s: IngestedSignal) => {
    unserved++;
    state.signals++;
    from = Math.min(from, s?.fromId ?? 0);
  });
  setHandler(calculatorStateQuery, () => state);

  /** Until no signal for debounceMs, or maxWaitMs since it began (a workflow timer, cancelled when done first). */
  async function settle(): Promise<void> {
    let capped = false;
    const cap = new CancellationScope();
    const timer = cap.run(() => sleep(maxWaitMs)).then(() => void (capped = true), () => undefined);
    for (;;) {
      const seen = unserved;
      const more = await condition(() => unserved !== seen || capped, debounceMs);
      if (!more || capped) break;
    }
    if (!capped) cap.cancel();
    await timer;
  }

  for (;;) {
    if (!(await condition(() => unserved > 0, idleMs))) return state; // idle: done; the next ingest starts it again
    await settle();
    const fromId = from;
    unserved = 0;
    from = Infinity;
    const r: CalculatePendingResult = await calculatePendingEmissions({ tenantId: input.tenantId, runId: workflowInfo().workflowId, fromId });
    state.iterations++;
    state.calculated += r.calculated;
    if (state.iterations >= maxIterations || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof emissionsCalculatorWorkflow>({
        ...input,
        pendingFrom: unserved > 0 ? from : undefined,
        generation: state.generation + 1,
        calculated: state.calculated,
      });
    }
  }
}
