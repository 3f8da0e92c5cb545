/**
 * The `trial` job spec: types, defaults and resolution. Pure (safe to import from workflows).
 *
 * HTTP validation (zod) lives in the API and uses the constants exported here.
 */

export const TRIAL_METHODS = ['mvn', 'bootstrap', 'rules'] as const;
export type TrialMethod = (typeof TRIAL_METHODS)[number];

/** The built-in model's id. */
export const PILOT_MODEL_ID = 'pilot-vitals';

export const TRIAL_DEFAULTS = {
  method: 'mvn' as TrialMethod,
  nPerArm: 1000,
  targetEffect: -5,
  seed: 1,
  model: PILOT_MODEL_ID,
  /** Names match data/pilot-vitals.csv. */
  visits: ['Baseline', 'Week 4', 'Week 8', 'Week 12'] as readonly string[],
  /** The FIRST arm is the active one: targetEffect = mean SBP(arms[0]) − mean SBP(arms[1]) at the last visit. */
  arms: ['Active', 'Placebo'] as readonly [string, string],
  jitter: 0.05,
} as const;

/** Limits the API enforces (a 400 naming the field beyond them); generators work for any value within. */
export const TRIAL_LIMITS = {
  nPerArmMin: 1,
  /** 2 × nPerArm × visits must stay a safe integer; the API's quota is usually far lower. */
  nPerArmMax: 1_000_000_000,
  visitsMin: 1,
  visitsMax: 52,
  /** |targetEffect| in mmHg. */
  targetEffectMaxAbs: 100,
  jitterMin: 0,
  jitterMax: 2,
  seedMin: 0,
  seedMax: Number.MAX_SAFE_INTEGER,
  nameMaxLength: 64,
} as const;

export interface TrialSpec {
  method: TrialMethod;
  nPerArm: number;
  /**
   * mmHg: mean SBP(arms[0]) − mean SBP(arms[1]) at the last visit (linear from 0 at the first), or
   * "model": each visit keeps the model's own arm difference.
   */
  targetEffect: number | 'model';
  seed: number;
  model: string;
  visits: string[];
  arms: [string, string];
  /** bootstrap only: Gaussian jitter as a fraction of each column's within-group standard deviation. */
  jitter?: number;
}

export type ResolvedTrialSpec = Required<TrialSpec>;

/** The pieces of a model that spec resolution needs (a full TrialModel fits). */
export interface ModelNames {
  visits: readonly string[];
  arms: readonly string[];
}

/**
 * Fills defaults. When `model` is given (the model the spec names) and the spec gives no visits or
 * arms, they default to the model's own (its first two arms, placebo-like names last), so that a
 * user's model with other visit names works without restating them.
 */
export function resolveTrialSpec(partial: Partial<TrialSpec>, model?: ModelNames): ResolvedTrialSpec {
  const method = partial.method ?? TRIAL_DEFAULTS.method;
  const useModelNames = model !== undefined && method !== 'rules';
  const visits = partial.visits ?? (useModelNames ? [...model.visits] : [...TRIAL_DEFAULTS.visits]);
  const arms =
    partial.arms ??
    (useModelNames && model.arms.length >= 2
      ? ([model.arms[0], model.arms[1]] as [string, string])
      : ([...TRIAL_DEFAULTS.arms] as [string, string]));
  return {
    method,
    nPerArm: partial.nPerArm ?? TRIAL_DEFAULTS.nPerArm,
    targetEffect: partial.targetEffect ?? TRIAL_DEFAULTS.targetEffect,
    seed: partial.seed ?? TRIAL_DEFAULTS.seed,
    model: partial.model ?? TRIAL_DEFAULTS.model,
    visits: [...visits],
    arms: [arms[0], arms[1]],
    jitter: partial.jitter ?? TRIAL_DEFAULTS.jitter,
  };
}

export interface SpecIssue {
  /** Dotted path inside the spec, e.g. "visits.2" (the API names it "spec.visits.2"). */
  path: string;
  message: string;
}

/**
 * Semantic checks on a resolved spec, and against the model when given (every spec visit and arm
 * must be a group of the model for mvn/bootstrap). Empty = valid. The API answers 400 with these.
 */
export function checkTrialSpec(spec: ResolvedTrialSpec, model?: ModelNames): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const L = TRIAL_LIMITS;
  if (!(TRIAL_METHODS as readonly string[]).includes(spec.method)) issues.push({ path: 'method', message: `must be one of ${TRIAL_METHODS.join(', ')}` });
  if (!Number.isInteger(spec.nPerArm) || spec.nPerArm < L.nPerArmMin || spec.nPerArm > L.nPerArmMax)
    issues.push({ path: 'nPerArm', message: `must be an integer in [${L.nPerArmMin}, ${L.nPerArmMax}]` });
  if (spec.targetEffect !== 'model' && (!Number.isFinite(spec.targetEffect) || Math.abs(spec.targetEffect) > L.targetEffectMaxAbs))
    issues.push({ path: 'targetEffect', message: `must be "model" or a number with |targetEffect| ≤ ${L.targetEffectMaxAbs}` });
  if (spec.targetEffect === 'model' && spec.method === 'rules')
    issues.push({ path: 'targetEffect', message: 'rules has no fitted arm differences to keep; give a number' });
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0) issues.push({ path: 'seed', message: 'must be an integer in [0, 2^53 − 1]' });
  if (!Number.isFinite(spec.jitter) || spec.jitter < L.jitterMin || spec.jitter > L.jitterMax)
    issues.push({ path: 'jitter', message: `must be in [${L.jitterMin}, ${L.jitterMax}]` });
  if (spec.visits.length < L.visitsMin || spec.visits.length > L.visitsMax)
    issues.push({ path: 'visits', message: `must have ${L.visitsMin} to ${L.visitsMax} entries` });
  const seen = new Set<string>();
  spec.visits.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > L.nameMaxLength) issues.push({ path: `visits.${i}`, message: `must be a non-empty string of at most ${L.nameMaxLength} characters` });
    else if (seen.has(v)) issues.push({ path: `visits.${i}`, message: `duplicate visit "${v}"` });
    seen.add(v);
  });
  if (spec.arms.length !== 2) issues.push({ path: 'arms', message: 'must have exactly 2 entries (active first)' });
  spec.arms.forEach((a, i) => {
    if (typeof a !== 'string' || a.length === 0 || a.length > L.nameMaxLength) issues.push({ path: `arms.${i}`, message: `must be a non-empty string of at most ${L.nameMaxLength} characters` });
  });
  if (spec.arms[0] === spec.arms[1]) issues.push({ path: 'arms.1', message: 'the two arms must differ' });
  if (Number.isInteger(spec.nPerArm) && !Number.isSafeInteger(2 * spec.nPerArm * spec.visits.length))
    issues.push({ path: 'nPerArm', message: 'too many rows' });
  if (model && spec.method !== 'rules') {
    spec.visits.forEach((v, i) => {
      if (!model.visits.includes(v)) issues.push({ path: `visits.${i}`, message: `model "${spec.model}" has no visit "${v}" (it has: ${model.visits.join(', ')})` });
    });
    spec.arms.forEach((a, i) => {
      if (!model.arms.includes(a)) issues.push({ path: `arms.${i}`, message: `model "${spec.model}" has no arm "${a}" (it has: ${model.arms.join(', ')})` });
    });
  }
  return issues;
}

/** Rows of the `vitals` table: 2 × nPerArm × visits. */
export function trialRowCount(spec: Pick<TrialSpec, 'nPerArm' | 'visits'>): number {
  return 2 * spec.nPerArm * spec.visits.length;
}

export const TRIAL_TABLE = 'vitals';

/** The spec as stored with a job: what the method uses, nothing it ignores (rules: no model; only bootstrap has jitter). */
export function storedTrialSpec(spec: ResolvedTrialSpec): Partial<ResolvedTrialSpec> {
  const { model, jitter, ...rest } = spec;
  return { ...rest, ...(spec.method === 'rules' ? {} : { model }), ...(spec.method === 'bootstrap' ? { jitter } : {}) };
}
