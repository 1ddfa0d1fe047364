// Running one health check (preload/contract/health.ts) on this machine: a TCP connect, an HTTP(S) GET,
// a program. The gateway check is ARP and runs in the agent on its shared sockets (agent/health-monitor.ts).
// Every run ends within its timeout, never throws, and says in one line what it saw.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { MAX_HEALTH_REASON_LENGTH, type HealthCheck } from '../../preload/contract/health';

export interface CheckRun {
  ok: boolean;
  /** What was seen, for the operator: "tcp 127.0.0.1:80: connection refused". */
  reason: string;
}

export type NetworkCheck = Exclude<HealthCheck, { kind: 'gateway' }>;

function clip(text: string): string {
  // Control characters (a program's escape sequences among them) would reach an operator's terminal.
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_HEALTH_REASON_LENGTH ? `${line.slice(0, MAX_HEALTH_REASON_LENGTH - 1)}…` : line;
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not resolved';
  return error instanceof Error ? error.message : String(error);
}

function tcp(check: Extract<HealthCheck, { kind: 'tcp' }>, timeoutMs: number): Promise<CheckRun> {
  const what = `tcp ${check.host}:${check.port}`;
  return new Promise((resolve) => {
    const socket = connect({ host: check.host, port: check.port });
    const done = (run: CheckRun): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: run.ok, reason: clip(run.reason) });
    };
    const timer = setTimeout(() => done({ ok: false, reason: `${what}: no answer within ${timeoutMs} ms` }), timeoutMs);
    // No timing in a passing reason: a reason that changes at every run would rewrite the node's health record each time.
    socket.once('connect', () => done({ ok: true, reason: `${what}: accepted` }));
    socket.once('error', (error) => done({ ok: false, reason: `${what}: ${errorText(error)}` }));
  });
}

function http(check: Extract<HealthCheck, { kind: 'http' }>, timeoutMs: number): Promise<CheckRun> {
  const url = new URL(check.url);
  const what = `GET ${check.url}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (run: CheckRun): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok: run.ok, reason: clip(run.reason) });
    };
    // A health check asks whether the service answers, not who it is: certificates are not verified
    // (self-signed ones are the rule on a service's own port), as keepalived's HTTP_GET does not.
    const options = { method: 'GET', headers: { 'user-agent': 'ipfo-health-check', connection: 'close' }, ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}) };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (response) => {
      const status = response.statusCode ?? 0;
      const ok = check.expectStatus === undefined ? status >= 200 && status < 400 : status === check.expectStatus;
      const wanted = check.expectStatus === undefined ? '2xx or 3xx' : String(check.expectStatus);
      response.resume();
      done({ ok, reason: ok ? `${what}: ${status}` : `${what}: ${status}, expected ${wanted}` });
    });
    const timer = setTimeout(() => done({ ok: false, reason: `${what}: no answer within ${timeoutMs} ms` }), timeoutMs);
    req.once('error', (error) => done({ ok: false, reason: `${what}: ${errorText(error)}` }));
    req.end();
  });
}

/** uid and gid of `nobody` (from /etc/passwd), read once; null when there is none. */
let nobody: { uid: number; gid: number } | null | undefined;
function nobodyIds(): { uid: number; gid: number } | null {
  if (nobody !== undefined) return nobody;
  nobody = null;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === 'nobody' && /^\d+$/.test(fields[2] ?? '') && /^\d+$/.test(fields[3] ?? '')) nobody = { uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  } catch {
    // No passwd file (Windows): programs run as the agent's user.
  }
  return nobody;
}

/**
 * The program's identity: as root, `nobody` — a check needs to look, not to change the machine —
 * otherwise the agent's own user. Exported for the tests.
 */
export function programIdentity(): { uid: number; gid: number } | null {
  return typeof process.getuid === 'function' && process.getuid() === 0 ? nobodyIds() : null;
}

function program(check: Extract<HealthCheck, { kind: 'exec' }>, timeoutMs: number): Promise<CheckRun> {
  const [file, ...args] = check.argv as [string, ...string[]];
  const what = `exec ${file}`;
  const identity = programIdentity();
  return new Promise((resolve) => {
    // An argument array and no shell: nothing in the check is ever parsed as a command line.
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, windowsHide: true, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, cwd: '/', ...(identity ?? {}) },
      (error, _stdout, stderr) => {
        if (error === null) return resolve({ ok: true, reason: `${what}: exit 0` });
        const failure = error as { killed?: boolean; code?: unknown; signal?: string | null };
        const said = String(stderr).split('\n').find((line) => line.trim() !== '') ?? '';
        let reason: string;
        if (failure.killed === true && failure.signal === 'SIGKILL') reason = `${what}: killed after ${timeoutMs} ms`;
        else if (typeof failure.code === 'number') reason = `${what}: exit ${failure.code}${said === '' ? '' : ` (${said})`}`;
        else if (typeof failure.signal === 'string') reason = `${what}: ended by ${failure.signal}`;
        else reason = `${what}: ${errorText(error)}`;
        resolve({ ok: false, reason: clip(reason) });
      },
    );
  });
}

/** Runs one check within `timeoutMs`. Never throws. */
export function runNetworkCheck(check: NetworkCheck, timeoutMs: number): Promise<CheckRun> {
  const running = check.kind === 'tcp' ? tcp(check, timeoutMs) : check.kind === 'http' ? http(check, timeoutMs) : program(check, timeoutMs);
  return running.catch((error: unknown) => ({ ok: false, reason: clip(`${check.kind}: ${errorText(error)}`) }));
}

/** The default route's gateway in /proc/net/route's text (on `ifname` when given), or null. */
export function parseDefaultGateway(table: string, ifname?: string): string | null {
  for (const line of table.split('\n').slice(1)) {
    const [iface, destination, gateway, , , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || gateway === undefined || (ifname !== undefined && iface !== ifname)) continue;
    if (destination !== '00000000' || mask !== '00000000' || !/^[0-9A-Fa-f]{8}$/.test(gateway) || gateway === '00000000') continue;
    // Little-endian hex: 0101A8C0 is 192.168.1.1.
    const value = Number.parseInt(gateway, 16);
    return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24].join('.');
  }
  return null;
}

/** The default route's gateway from /proc/net/route (Linux), or null. */
export function defaultGateway(ifname?: string): string | null {
  try {
    return parseDefaultGateway(readFileSync('/proc/net/route', 'utf8'), ifname);
  } catch {
    return null;
  }
}
