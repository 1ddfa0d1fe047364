// The agent's configuration file: /etc/ipfo/agent.json (Linux), %ProgramData%\ipfo\agent.json
// (Windows). Pure: the caller reads the file and passes its text.
//
// Format: one JSON object whose keys are the long options of `ipfo agent` (without "--"), so the
// file and the command line speak one vocabulary. Two conveniences for a hand-edited file: a line
// whose first non-blank characters are `//` is a comment, and a comma may follow the last member
// (the default file comments out every line, each ending in a comma: uncommenting any of them keeps
// it valid). Strict otherwise: unknown keys, wrong types, relative paths and bad values are refused
// with the field named. Options given on the command line override the file.
import { posix, win32 } from 'node:path';
import { validateNodeName } from '../cluster/validate';
import { parseStoreLocation } from '../store/open';
import { storeAccessProblem } from '../store/etcd-access';
import { FAILOVER_PROFILES, isFailoverProfile, OWNER_SILENCE_MAX_MS, OWNER_SILENCE_MIN_MS } from '../cluster/failover-profile';
import { UsageError, parseHostPort } from './operator-input';
import type { ServicePlatform } from './launch';

export const LINUX_CONFIG_FILE = '/etc/ipfo/agent.json';
/** Largest configuration file accepted (a real one is a few hundred bytes). */
export const MAX_CONFIG_BYTES = 64 * 1024;

type Kind = 'string' | 'path' | 'integer' | 'boolean';

/** Every key the file may hold, with its type; each maps to the `ipfo agent` option of the same name. */
export const AGENT_CONFIG_KEYS = {
  node: 'string',
  store: 'string',
  cluster: 'string',
  api: 'string',
  'api-socket': 'string',
  'token-file': 'path',
  'tls-cert': 'path',
  'tls-key': 'path',
  'lease-ttl': 'integer',
  'failover-profile': 'string',
  'owner-silence-ms': 'integer',
  'stats-interval': 'integer',
  'state-dir': 'path',
  'web-dir': 'path',
  json: 'boolean',
  'store-ca': 'path',
  'store-cert': 'path',
  'store-key': 'path',
  'store-user': 'string',
  'store-password-file': 'path',
  metrics: 'string',
  'metrics-tls-cert': 'path',
  'metrics-tls-key': 'path',
} as const satisfies Record<string, Kind>;

export type AgentConfigKey = keyof typeof AGENT_CONFIG_KEYS;
export type AgentConfig = { [K in AgentConfigKey]?: (typeof AGENT_CONFIG_KEYS)[K] extends 'integer' ? number : (typeof AGENT_CONFIG_KEYS)[K] extends 'boolean' ? boolean : string };

/** %ProgramData%\ipfo\agent.json, or /etc/ipfo/agent.json. */
export function agentConfigPath(platform: ServicePlatform, programData: string | null = null): string {
  if (platform === 'linux') return LINUX_CONFIG_FILE;
  if (programData === null || !win32.isAbsolute(programData)) throw new Error('%ProgramData% is not set to an absolute path');
  return win32.join(programData, 'ipfo', 'agent.json');
}

function lineOf(text: string, position: number): number {
  return text.slice(0, position).split('\n').length;
}

/** The text with comment lines blanked (line numbers stay right) and one trailing comma allowed. */
function stripConveniences(text: string): string {
  const blanked = text.replace(/^\uFEFF/, '').split('\n').map((line) => (/^\s*\/\//.test(line) ? '' : line)).join('\n');
  return blanked.replace(/,(\s*)\}(\s*)$/, '$1}$2');
}

function fail(file: string, message: string): never {
  throw new UsageError(`${file}: ${message}`);
}

function checkPath(file: string, key: string, value: string, platform: ServicePlatform): void {
  const isAbsolute = platform === 'win32' ? win32.isAbsolute(value) && /^[A-Za-z]:[\\/]|^\\\\/.test(value) : posix.isAbsolute(value);
  if (!isAbsolute) fail(file, `"${key}" must be an absolute path, got ${JSON.stringify(value)}`);
}

/** Parses and validates a configuration file's text. `file` names it in every error. */
export function parseAgentConfig(text: string, file: string, platform: ServicePlatform = 'linux'): AgentConfig {
  if (text.length > MAX_CONFIG_BYTES) fail(file, `larger than ${MAX_CONFIG_BYTES} bytes: not a configuration file`);
  const json = stripConveniences(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    const position = /position (\d+)/.exec(message);
    fail(file, `not valid JSON${position === null ? '' : ` (line ${lineOf(json, Number(position[1]))})`}: ${message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(file, 'must hold one JSON object ({ "node": "...", ... })');
  const config: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(AGENT_CONFIG_KEYS, key)) {
      fail(file, `unknown key ${JSON.stringify(key)} (known: ${Object.keys(AGENT_CONFIG_KEYS).join(', ')})`);
    }
    const kind: Kind = AGENT_CONFIG_KEYS[key as AgentConfigKey];
    if (kind === 'boolean') {
      if (typeof value !== 'boolean') fail(file, `"${key}" must be true or false, got ${JSON.stringify(value)}`);
    } else if (kind === 'integer') {
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(file, `"${key}" must be a whole number, got ${JSON.stringify(value)}`);
    } else if (typeof value !== 'string' || value === '') {
      fail(file, `"${key}" must be a non-empty string, got ${JSON.stringify(value)}`);
    } else if (/[\p{Cc}\u2028\u2029]/u.test(value)) {
      fail(file, `"${key}" contains a control character`);
    } else if (kind === 'path') {
      checkPath(file, key, value, platform);
    }
    config[key] = value;
  }
  validateValues(file, config, platform);
  return config;
}

function validateValues(file: string, config: AgentConfig, platform: ServicePlatform): void {
  if (config.node !== undefined) {
    const node = validateNodeName(config.node);
    if (!node.ok) fail(file, `"node": ${node.message}`);
  }
  let location: ReturnType<typeof parseStoreLocation> | null = null;
  if (config.store !== undefined) {
    try {
      location = parseStoreLocation(config.store);
    } catch (error) {
      fail(file, `"store": ${(error as Error).message}`);
    }
    if (location.kind === 'file') checkPath(file, 'store', location.dir, platform);
  }
  // The etcd credentials, checked against the file's store when it names one (else the command line's, at start).
  const access = {
    ca: config['store-ca'] ?? null,
    cert: config['store-cert'] ?? null,
    key: config['store-key'] ?? null,
    user: config['store-user'] ?? null,
    passwordFile: config['store-password-file'] ?? null,
  };
  const accessProblem = storeAccessProblem(access, location, (key) => JSON.stringify(key));
  if (accessProblem !== null) fail(file, accessProblem);
  if (config.api !== undefined) {
    try {
      parseHostPort('api', config.api);
    } catch {
      fail(file, `"api" wants host:port, got ${JSON.stringify(config.api)}`);
    }
  }
  if (config.metrics !== undefined) {
    try {
      parseHostPort('metrics', config.metrics);
    } catch {
      fail(file, `"metrics" wants host:port, got ${JSON.stringify(config.metrics)}`);
    }
  }
  if ((config['metrics-tls-cert'] === undefined) !== (config['metrics-tls-key'] === undefined)) fail(file, '"metrics-tls-cert" and "metrics-tls-key" go together');
  if (config['lease-ttl'] !== undefined && (config['lease-ttl'] < 2 || config['lease-ttl'] > 60)) {
    fail(file, `"lease-ttl" must be between 2 and 60 seconds, got ${config['lease-ttl']}`);
  }
  if (config['failover-profile'] !== undefined && !isFailoverProfile(config['failover-profile'])) {
    fail(file, `"failover-profile" must be one of ${FAILOVER_PROFILES.join(', ')}, got ${JSON.stringify(config['failover-profile'])}`);
  }
  if (config['owner-silence-ms'] !== undefined && (config['owner-silence-ms'] < OWNER_SILENCE_MIN_MS || config['owner-silence-ms'] > OWNER_SILENCE_MAX_MS)) {
    fail(file, `"owner-silence-ms" must be between ${OWNER_SILENCE_MIN_MS} and ${OWNER_SILENCE_MAX_MS}, got ${config['owner-silence-ms']}`);
  }
  if (config['stats-interval'] !== undefined && (config['stats-interval'] < 0 || config['stats-interval'] > 86_400)) {
    fail(file, `"stats-interval" must be between 0 and 86400 seconds, got ${config['stats-interval']}`);
  }
  if ((config['tls-cert'] === undefined) !== (config['tls-key'] === undefined)) fail(file, '"tls-cert" and "tls-key" go together');
}

/** The configuration as `ipfo agent` options (command-line options given after these override them). */
export function agentConfigArgv(config: AgentConfig): string[] {
  const argv: string[] = [];
  for (const key of Object.keys(AGENT_CONFIG_KEYS) as AgentConfigKey[]) {
    const value = config[key];
    if (value === undefined || value === false) continue;
    argv.push(`--${key}`);
    if (value !== true) argv.push(String(value));
  }
  return argv;
}

/**
 * The file `ipfo agent install` writes when there is none: every setting commented out on Linux (the
 * service fails with exit 2, "no node", until an administrator names the node); on Windows the
 * paths that default to Linux locations are set to %ProgramData%\ipfo.
 */
export function defaultAgentConfigText(platform: ServicePlatform, programData: string | null = null): string {
  const configFile = agentConfigPath(platform, programData);
  const dataDir = platform === 'win32' ? win32.dirname(configFile) : '/var/lib/ipfo';
  const at = (name: string): string => (platform === 'win32' ? win32.join(dataDir, name) : posix.join(dataDir, name));
  const set = (key: string, value: string | number | boolean, commented: boolean): string => `  ${commented ? '// ' : ''}${JSON.stringify(key)}: ${JSON.stringify(value)},`;
  const windows = platform === 'win32';
  return [
    `// IP Failover Console node agent: \`ipfo agent --config ${configFile}\` (the ipfo-agent service reads this file).`,
    '// Lines starting with // are comments. Keys are the long options of `ipfo agent`; options given on the',
    '// command line override them; unknown keys are refused. See docs/agent-service.md.',
    '// The service does nothing useful until "node" is set; then enable it:',
    windows ? '//   schtasks /Change /TN ipfo-agent /ENABLE   and   schtasks /Run /TN ipfo-agent' : '//   systemctl enable --now ipfo-agent',
    '{',
    set('node', 'node1', true),
    set('store', `file:${at('store')}`, !windows),
    '  // "store": "etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379",',
    set('cluster', 'default', true),
    set('api', '127.0.0.1:7790', true),
    set('token-file', at('token'), !windows),
    set('tls-cert', windows ? win32.join(win32.dirname(configFile), 'agent.crt') : '/etc/ipfo/agent.crt', true),
    set('tls-key', windows ? win32.join(win32.dirname(configFile), 'agent.key') : '/etc/ipfo/agent.key', true),
    '  // A secured etcd (docs/security.md): its CA (TLS), a client certificate, an etcd user and its password file (0600).',
    set('store-ca', windows ? win32.join(win32.dirname(configFile), 'etcd-ca.crt') : '/etc/ipfo/etcd-ca.crt', true),
    set('store-cert', windows ? win32.join(win32.dirname(configFile), 'etcd-client.crt') : '/etc/ipfo/etcd-client.crt', true),
    set('store-key', windows ? win32.join(win32.dirname(configFile), 'etcd-client.key') : '/etc/ipfo/etcd-client.key', true),
    set('store-user', 'ipfo', true),
    set('store-password-file', windows ? win32.join(win32.dirname(configFile), 'etcd-password') : '/etc/ipfo/etcd-password', true),
    '  // Prometheus metrics (README, "Metrics"): loopback in clear; another address only with TLS files.',
    set('metrics', '127.0.0.1:9790', true),
    set('lease-ttl', 3, true),
    '  // How soon a standby takes over from an owner that stopped answering: "default" (client gap <= 200 ms) or "fast" (<= 30 ms).',
    set('failover-profile', 'default', true),
    set('owner-silence-ms', 100, true),
    set('stats-interval', 600, true),
    set('state-dir', windows ? at('run') : '/run/ipfo', !windows),
    set('json', false, true),
    '}',
    '',
  ].join('\n');
}
