// The pieces every command parser shares: the bad-input error (exit 2) and the agent's defaults.
// Kept apart from args.ts so that cluster-args.ts can use them without an import cycle.
export { UsageError, parseHostPort } from '../service/operator-input';

export const DEFAULT_STORE = 'file:/var/lib/ipfo/store';
export const DEFAULT_TOKEN_FILE = '/var/lib/ipfo/token';
export const DEFAULT_API = '127.0.0.1:7790';
/**
 * The directory of the agent API's Unix sockets (main/api/unix-socket.ts): a root agent on Linux
 * listens on <node>.sock there, and the CLI uses the one socket it finds there first.
 */
export const DEFAULT_API_SOCKET_DIR = '/run/ipfo/api';
