// The WebSocket endpoint's path, in a module of its own: the web console opens its socket before the
// contract (zod) is even evaluated (renderer/src/api/early-socket.ts) and must not import it for that.

/** The WebSocket endpoint; everything else on the port is static files and /healthz. */
export const API_PATH = '/api';
