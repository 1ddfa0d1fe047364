// The local agent as the console sees it: where it listens, where its token and store are, whether
// it answers now, and its token if this user may read it. Defaults are the agent's own
// (127.0.0.1:7790, /var/lib/ipfo/token, file:/var/lib/ipfo/store); tests and packagers may move
// them with IPFO_CONSOLE_API / IPFO_CONSOLE_TOKEN_FILE / IPFO_CONSOLE_STORE_DIR.
import { request } from 'node:http';
import { hostname } from 'node:os';
import { DEFAULT_API_HOST, DEFAULT_API_PORT, HEALTH_PATH } from '../../preload/contract/protocol';
import { isLoopbackHost } from '../api/exposure';
import { readTokenFile } from '../api/token';
import { DEFAULT_STORE, DEFAULT_TOKEN_FILE } from '../cli/args';
import { validateNodeName } from '../cluster/validate';
import { pathProblem } from './elevation';

export interface LocalAgentSettings {
  host: string;
  port: number;
  tokenFile: string;
  storeDir: string;
  /** The node name a local agent started by the console registers with (the host name when valid). */
  node: string;
}

/** Node name for a single-host agent: the host name if it is a valid node name, else "local". */
export function localNodeName(host: string): string {
  const short = host.split('.')[0] ?? '';
  for (const candidate of [host, short]) {
    if (validateNodeName(candidate).ok) return candidate;
  }
  return 'local';
}

export type SettingsParse = { ok: true; settings: LocalAgentSettings } | { ok: false; problem: string };

/** The local agent's settings from the environment (pure: pass process.env and os.hostname()). */
export function localAgentSettings(env: Readonly<Record<string, string | undefined>>, host: string): SettingsParse {
  let apiHost = DEFAULT_API_HOST;
  let port = DEFAULT_API_PORT;
  const api = env.IPFO_CONSOLE_API;
  if (api !== undefined && api !== '') {
    const match = /^(127(?:\.[0-9]{1,3}){3}):([0-9]{1,5})$/.exec(api);
    if (match === null || !isLoopbackHost(match[1] ?? '') || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      return { ok: false, problem: `IPFO_CONSOLE_API must be a loopback 127.x.y.z:port, got ${JSON.stringify(api.slice(0, 80))}` };
    }
    apiHost = match[1] ?? DEFAULT_API_HOST;
    port = Number(match[2]);
  }
  const tokenFile = env.IPFO_CONSOLE_TOKEN_FILE || DEFAULT_TOKEN_FILE;
  const storeDir = env.IPFO_CONSOLE_STORE_DIR || DEFAULT_STORE.slice('file:'.length);
  // These paths end up in the elevated command: check them by its rules now, not at the prompt.
  for (const [what, path] of [['IPFO_CONSOLE_TOKEN_FILE', tokenFile], ['IPFO_CONSOLE_STORE_DIR', storeDir]] as const) {
    const problem = pathProblem('linux', what, path);
    if (problem !== null) return { ok: false, problem };
  }
  return { ok: true, settings: { host: apiHost, port, tokenFile, storeDir, node: localNodeName(host) } };
}

export function defaultLocalAgentSettings(env: Readonly<Record<string, string | undefined>> = process.env): LocalAgentSettings {
  const parsed = localAgentSettings(env, hostname());
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.settings;
}

/** Whether an agent answers its health check at host:port (plain HTTP: loopback only). */
export function agentAnswers(host: string, port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: HEALTH_PATH, method: 'GET', timeout: timeoutMs, headers: { Host: `${host}:${port}` } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 64) body += chunk;
      });
      response.on('end', () => resolve(response.statusCode === 200 && body.trim() === 'ok'));
      response.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The agent's token from its token file, or null when this user cannot read it (the usual case: it is root's). */
export async function readLocalToken(file: string): Promise<string | null> {
  try {
    return await readTokenFile(file);
  } catch {
    return null;
  }
}
