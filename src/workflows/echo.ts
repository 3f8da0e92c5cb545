/** A trivial round trip through the worker: used by readiness checks in tests and by operators. */
import { proxyActivities } from '@temporalio/workflow';
import type { JobActivities } from '../engine/activities.js';

const { echo } = proxyActivities<Pick<JobActivities, 'echo'>>({ startToCloseTimeout: '30 seconds' });

export async function echoWorkflow(message: string): Promise<{ message: string; worker: string }> {
  return echo(message);
}
