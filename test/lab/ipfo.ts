// Runs the real `ipfo` command inside lab hosts.
import { join } from 'node:path';
import type { Lab, LabHost } from './lab';
import { JsonLines } from './json-lines';

export const IPFO_BIN = join(__dirname, '..', '..', '..', 'bin', 'ipfo');

/** IPFO_LAB_NODE_FLAGS: node options for every ipfo the lab starts ("--cpu-prof --cpu-prof-dir=/tmp/p"; NODE_OPTIONS refuses those). */
const NODE_FLAGS = (process.env.IPFO_LAB_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

export function ipfoArgv(args: readonly string[]): string[] {
  return [process.execPath, ...NODE_FLAGS, IPFO_BIN, ...args];
}

/** Starts a long-running ipfo (claim, watch) with JSON output and returns its line reader. */
export function startIpfo(lab: Lab, host: LabHost | string, args: readonly string[]): JsonLines {
  return new JsonLines(lab.spawn(host, ipfoArgv(args), { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Runs a short ipfo command (probe, a bad invocation) to completion. */
export function runIpfo(lab: Lab, host: LabHost | string, args: readonly string[], timeoutMs = 15_000) {
  return lab.run(host, ipfoArgv(args), { timeoutMs });
}

/** Wall-clock ms of an ISO `time` field in ipfo's JSON output. */
export function timeOf(record: Record<string, unknown>): number {
  return Date.parse(String(record.time));
}
