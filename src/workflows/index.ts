/** The workflow bundle's entry: every workflow type the worker registers. */
export { jobWorkflow, pauseSignal, resumeSignal, progressQuery } from './job.js';
export { echoWorkflow } from './echo.js';
export { retentionWorkflow } from './retention.js';
export { emissionsCalculatorWorkflow, activitiesIngestedSignal, calculatorStateQuery } from './emissions-calculator.js';
