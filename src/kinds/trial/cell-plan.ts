/** What the generator plans for one (visit, arm) cell, and the quality report compares against (a leaf module). */
export interface CellPlan {
  visit: string;
  arm: string;
  /** The model's group means (SBP, DBP, HR, Temp). */
  modelMean: number[];
  /** The wanted output means: the model's, with SBP (and DBP alike) moved in arms[0] for targetEffect. */
  target: number[];
  /** The output means the plan gives (expected, exactly as computed; = target when reachable). */
  expected: number[];
  /** mvn/rules: the truncated normals' locations; bootstrap: the shifts added to the donor values. */
  location: number[];
  /** Scale: mvn/rules the group's SD; bootstrap the jitter SD. */
  scale: number[];
  /** bootstrap: cumulative acceptance weights of the group's rows (the fallback draw). */
  weights?: Float64Array;
}
