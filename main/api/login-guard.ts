// What a client that has not logged in may cost the agent (issue 12, denial of service):
//
// - Unauthenticated connections have their own budget, per client (its address; "unix" for the local
//   socket) and in all; only authenticated sessions count toward the session limit. So sockets held
//   open without logging in exhaust the budget of whoever holds them, not everyone's.
// - Failed logins back off per client: after a few in a window, the refusal is held back for a
//   doubling delay (capped). The connection keeps its unauthenticated slot meanwhile, so one client
//   makes at most perClient guesses per delay. Someone else logging in with the right proof is never
//   delayed: the delay applies to refusals only.
// - Refused logins are logged in aggregate: the first at once, then at most one line per interval
//   with the count and the busiest clients (a flood of thousands writes a handful of lines).
//
// The tables are bounded (MAX_TRACKED_CLIENTS): a flood from many addresses cannot grow memory.

export interface LoginGuardLimits {
  /** Unauthenticated connections of one client at once; more are refused (HTTP 503). */
  perClient: number;
  /** Unauthenticated connections in all. */
  total: number;
  /** Failed logins within windowMs that are answered at once; each further one waits. */
  freeFailures: number;
  windowMs: number;
  /** The first delay; doubled for each further failure, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** At most one aggregated log line per this interval. */
  logIntervalMs: number;
}

export const DEFAULT_LOGIN_LIMITS: Readonly<LoginGuardLimits> = Object.freeze({
  perClient: 8,
  total: 128,
  freeFailures: 3,
  windowMs: 60_000,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  logIntervalMs: 10_000,
});

const MAX_TRACKED_CLIENTS = 4_096;
/** Clients named in one aggregated line. */
const LOGGED_CLIENTS = 5;

export class LoginGuard {
  private readonly pending = new Map<string, number>();
  private pendingTotal = 0;
  private readonly failures = new Map<string, number[]>();
  private logTimer: NodeJS.Timeout | null = null;
  private readonly unlogged = new Map<string, number>();
  private unloggedTotal = 0;
  /** Some refusals of this interval came from clients beyond the table's bound. */
  private overflowed = false;

  constructor(
    readonly limits: LoginGuardLimits,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes an unauthenticated slot for `client`; false when its budget (or the total) is spent. */
  admit(client: string): boolean {
    const held = this.pending.get(client) ?? 0;
    if (held >= this.limits.perClient || this.pendingTotal >= this.limits.total) return false;
    this.pending.set(client, held + 1);
    this.pendingTotal += 1;
    return true;
  }

  /** Gives the slot back (the connection logged in, or closed). */
  release(client: string): void {
    const held = this.pending.get(client) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.pending.delete(client);
    else this.pending.set(client, held - 1);
    this.pendingTotal -= 1;
  }

  /** Unauthenticated connections now held (by `client`, or in all). */
  unauthenticated(client?: string): number {
    return client === undefined ? this.pendingTotal : (this.pending.get(client) ?? 0);
  }

  /** A wrong proof from `client`: logged (in aggregate), and how long to hold the refusal back. */
  failed(client: string, reason: string): number {
    const now = this.now();
    const times = (this.failures.get(client) ?? []).filter((time) => now - time < this.limits.windowMs);
    times.push(now);
    // Only the count matters past the cap: the delay is capped long before.
    if (times.length > 64) times.splice(0, times.length - 64);
    this.failures.delete(client);
    this.failures.set(client, times);
    trim(this.failures);
    this.refused(client, reason);
    const excess = times.length - this.limits.freeFailures;
    if (excess <= 0) return 0;
    return Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(excess - 1, 30));
  }

  /** A refused login (wrong proof, old protocol, no login): the first logged at once, then in aggregate. */
  refused(client: string, reason: string): void {
    if (this.logTimer === null) {
      this.log(`api: refused a login from ${client}: ${reason}`);
      this.startInterval();
      return;
    }
    this.unloggedTotal += 1;
    if (this.unlogged.has(client) || this.unlogged.size < MAX_TRACKED_CLIENTS) this.unlogged.set(client, (this.unlogged.get(client) ?? 0) + 1);
    else this.overflowed = true;
  }

  /** Writes what is still unlogged and stops the timer. */
  close(): void {
    if (this.logTimer !== null) clearInterval(this.logTimer);
    this.logTimer = null;
    this.flush();
  }

  private startInterval(): void {
    this.logTimer = setInterval(() => {
      if (this.unloggedTotal === 0) {
        // A quiet interval: the next refusal is logged at once again.
        if (this.logTimer !== null) clearInterval(this.logTimer);
        this.logTimer = null;
        return;
      }
      this.flush();
    }, this.limits.logIntervalMs);
    this.logTimer.unref();
  }

  private flush(): void {
    if (this.unloggedTotal === 0) return;
    const busiest = [...this.unlogged.entries()].sort((a, b) => b[1] - a[1]);
    const named = busiest.slice(0, LOGGED_CLIENTS).map(([client, count]) => `${client} ×${count}`);
    if (busiest.length > LOGGED_CLIENTS || this.overflowed) named.push(`${busiest.length - LOGGED_CLIENTS}${this.overflowed ? '+' : ''} more clients`);
    const seconds = Math.round(this.limits.logIntervalMs / 100) / 10;
    this.log(`api: ${this.unloggedTotal} more refused logins in the last ${seconds} s (${named.join(', ')})`);
    this.unlogged.clear();
    this.unloggedTotal = 0;
    this.overflowed = false;
  }
}

/** Drops the least recently touched entries beyond MAX_TRACKED_CLIENTS (a Map iterates in insertion order). */
function trim<V>(map: Map<string, V>): void {
  while (map.size > MAX_TRACKED_CLIENTS) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
