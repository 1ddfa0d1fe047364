// A node's verdict on one health profile (preload/contract/health.ts), from its runs: `fall` failed runs
// in a row make a healthy node unhealthy, `rise` passed runs in a row make it healthy again. Before the
// first run the verdict is unknown, and the first run decides it at once: an unknown node is not chosen
// by placement anyway, so waiting for `rise` there only delays a new resource (or a restarted node).
// Pure: the caller passes the time and acts on the transition.

export interface Verdict {
  healthy: boolean;
  /** Runs in a row that went against the verdict (towards fall or rise). */
  against: number;
  /** The last run's reason. */
  reason: string;
  /** Wall-clock ms since `healthy` has held. */
  since: number;
}

/** What a run changed: the verdict turned ('failed', 'recovered'), was reached for the first time, or neither. */
export type VerdictChange = 'failed' | 'recovered' | 'first-healthy' | 'first-unhealthy' | null;

export interface RunOutcome {
  ok: boolean;
  reason: string;
}

export function afterRun(verdict: Verdict | null, run: RunOutcome, limits: { fall: number; rise: number }, now: number): { verdict: Verdict; change: VerdictChange } {
  if (verdict === null) {
    return { verdict: { healthy: run.ok, against: 0, reason: run.reason, since: now }, change: run.ok ? 'first-healthy' : 'first-unhealthy' };
  }
  if (run.ok === verdict.healthy) return { verdict: { ...verdict, against: 0, reason: run.reason }, change: null };
  const against = verdict.against + 1;
  if (against < (verdict.healthy ? limits.fall : limits.rise)) return { verdict: { ...verdict, against, reason: run.reason }, change: null };
  return { verdict: { healthy: run.ok, against: 0, reason: run.reason, since: now }, change: run.ok ? 'recovered' : 'failed' };
}

/** A run passes when every check passed; its reason is the first failure's, or the checks' joined. */
export function combineRuns(runs: readonly RunOutcome[]): RunOutcome {
  const failed = runs.find((run) => !run.ok);
  if (failed !== undefined) return failed;
  return { ok: true, reason: runs.map((run) => run.reason).join('; ') };
}
