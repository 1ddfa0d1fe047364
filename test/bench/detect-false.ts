// False failovers, counted from log lines (pure). keepalived: a backup that logs "Entering MASTER
// STATE" while its master lives has taken the address from a live owner. Ours: a standby's
// "<owner> silent on ARP for <ip> ... revoking its lease" (revocations.ts) while every owner lives.

const KEEPALIVED_MASTER = /\) Entering MASTER STATE/;

/** Transitions to MASTER among a backup's log lines. */
export function keepalivedMasterEntries(lines: readonly string[]): number {
  return lines.filter((line) => KEEPALIVED_MASTER.test(line)).length;
}
