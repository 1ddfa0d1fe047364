// THE GATE (issue 18). The cluster's data model reads IPv6 resources (validate.ts, the contract), but the
// agents do not serve them yet: their claim sockets, standby probes and watch speak ARP only. So:
// - the agent's API refuses to create one, or to edit an address into one (api-handler.ts: add, edit,
//   import), as it refuses any other bad input, against the `ip` field;
// - a record written into the store by hand is left out where every record is checked
//   (store/record-check.ts) and reported once for the cluster like any rejected record
//   (agent/rejection-report.ts): no agent places, claims, probes or watches it;
// - a probe intent for one is answered with this message instead of a probe (agent/preflight.ts).
// The session that teaches the agents ND deletes this file and its callers; nothing else depends on it.

export const IPV6_NOT_SERVED = 'IPv6 resources are not served by the agents yet (issue 18)';

/** Why an agent will not take `ip` yet, or null when it will. */
export function ipv6NotServedYet(ip: unknown): string | null {
  return typeof ip === 'string' && ip.includes(':') ? IPV6_NOT_SERVED : null;
}
