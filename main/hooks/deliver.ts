// Delivering one event to one hook's target (the effects; what is sent is built in payload.ts, sign.ts
// and syslog.ts). Each attempt ends within the hook's timeout with an outcome, never a throw:
//   exec     the program by absolute path with an argument array (spawn, never a shell), the payload
//            on stdin, IPFO_* in its environment (nothing of the agent's own); exit 0 = delivered. At the
//            timeout it is killed (SIGKILL) and the attempt failed. At most OUTPUT_LIMIT bytes of its
//            output are kept (for the error), the rest is read and dropped.
//   webhook  POST of the JSON body, signed (sign.ts) with the secret read from the secret file at each
//            attempt; 2xx = delivered; the reply's body is read up to OUTPUT_LIMIT.
//   syslog   one RFC 5424 datagram to udp://HOST:PORT; sent = delivered (UDP says no more).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseSyslogTarget, type HookDeliveryResult, type HookTarget } from '../../preload/contract/hooks';
import { execEnvironment, payloadBody, type HookPayload } from './payload';
import { secretFromFile, webhookHeaders } from './sign';
import { syslogMessage } from './syslog';

export const OUTPUT_LIMIT = 4096;
/** The largest secret file read. */
export const MAX_SECRET_BYTES = 4096;
const SYSLOG_TIMEOUT_MS = 5_000;

export type Deliver = (target: HookTarget, payload: HookPayload) => Promise<HookDeliveryResult>;

export const deliver: Deliver = async (target, payload) => {
  const started = performance.now();
  const done = (ok: boolean, detail: string): HookDeliveryResult => ({ ok, detail: detail.slice(0, 1000), durationMs: Math.round((performance.now() - started) * 100) / 100 });
  try {
    switch (target.kind) {
      case 'exec': {
        const outcome = await runProgram(target.path, target.args, payloadBody(payload), execEnvironment(payload), target.timeoutMs);
        return done(outcome.ok, outcome.detail);
      }
      case 'webhook': {
        const secret = target.secretFile === null ? null : await readSecret(target.secretFile);
        const outcome = await postJson(target.url, payload, secret, target.timeoutMs);
        return done(outcome.ok, outcome.detail);
      }
      case 'syslog': {
        await sendSyslog(target.target, payload);
        return done(true, `sent to ${target.target}`);
      }
    }
  } catch (error) {
    return done(false, error instanceof Error ? error.message : String(error));
  }
};

/** The secret file's content (at most MAX_SECRET_BYTES), without its trailing newline. */
export async function readSecret(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new Error(`secret file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`secret file ${path} is not a regular file`);
    if (info.size > MAX_SECRET_BYTES) throw new Error(`secret file ${path} holds more than ${MAX_SECRET_BYTES} bytes`);
    const buffer = Buffer.alloc(MAX_SECRET_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const secret = secretFromFile(buffer.subarray(0, bytesRead));
    if (secret.length === 0) throw new Error(`secret file ${path} is empty`);
    return secret;
  } finally {
    await handle.close();
  }
}

/** Keeps the first OUTPUT_LIMIT bytes of a stream, reads (and drops) the rest. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  add(chunk: Buffer): void {
    const room = OUTPUT_LIMIT - this.kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(0, room));
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8').trim();
  }
}

function runProgram(path: string, args: readonly string[], body: string, env: Record<string, string>, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(path, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env, cwd: '/', shell: false, windowsHide: true });
    const output = new BoundedOutput();
    let timedOut = false;
    let settled = false;
    const finish = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => output.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.add(chunk));
    // A program that does not read its stdin (or exits first) closes the pipe: not a failure by itself.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${body}\n`);
    child.on('error', (error) => finish(false, `${path} could not be started: ${error.message}`));
    child.on('close', (code, signal) => {
      const said = output.text();
      const tail = said === '' ? '' : `: ${said.slice(-300)}`;
      if (timedOut) finish(false, `${path} killed after its timeout of ${timeoutMs} ms${tail}`);
      else if (code === 0) finish(true, `${path} exited 0`);
      else finish(false, `${path} ${signal === null ? `exited ${code}` : `ended by ${signal}`}${tail}`);
    });
  });
}

function postJson(url: string, payload: HookPayload, secret: Buffer | null, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const body = payloadBody(payload);
  const parsed = new URL(url);
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, detail });
    };
    const request = send(parsed, { method: 'POST', headers: webhookHeaders(payload, body, secret) }, (response: IncomingMessage) => {
      const output = new BoundedOutput();
      response.on('data', (chunk: Buffer) => output.add(chunk));
      response.on('error', (error) => finish(false, `reply from ${parsed.host} broke off: ${error.message}`));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const said = output.text().slice(0, 200);
        if (status >= 200 && status < 300) finish(true, `HTTP ${status}`);
        else finish(false, `HTTP ${status}${said === '' ? '' : `: ${said}`}`);
      });
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', (error) => finish(false, `POST ${parsed.origin}${parsed.pathname}: ${error.message}`));
    request.end(body);
  });
}

function sendSyslog(targetText: string, payload: HookPayload): Promise<void> {
  const target = parseSyslogTarget(targetText);
  if (target === null) return Promise.reject(new Error(`syslog target ${targetText} is not udp://HOST:PORT`));
  const message = Buffer.from(syslogMessage(payload, payloadBody(payload), { hostname: hostname(), procId: process.pid }));
  const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`syslog datagram to ${targetText} not sent within ${SYSLOG_TIMEOUT_MS} ms`));
    }, SYSLOG_TIMEOUT_MS);
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.send(message, target.port, target.host, (error) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve();
    });
  });
}
