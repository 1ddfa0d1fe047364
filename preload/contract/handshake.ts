// The agent API's login: a challenge–response over the shared token in which the token never
// crosses the wire and the agent proves it knows the token before the client sends anything that
// could log in anywhere (so an impostor that took the API's port learns nothing it can use):
//
//   client -> agent   hello { protocol, clientNonce, client? }
//   agent -> client   { protocol, serverNonce, serverProof = HMAC(token, "server" transcript) }
//                     the client checks serverProof; a program without the token cannot make it
//   client -> agent   auth { proof = HMAC(token, "client" transcript) }
//   agent -> client   { protocol, actor }
//
// The transcript binds both proofs to both nonces (fresh per connection: a proof seen once is of no
// use on another connection), to the client label (the audit log's name for the session), and to the
// channel: the scheme and port the client dialled ("ws:7790", "wss:443") or "unix" for the local
// socket, which the agent compares with the listener the connection came in on. A program relaying
// between a client and the real agent therefore fails unless it serves on the very listener the agent
// holds; over TLS it would also need the agent's certificate. The two roles are separate messages
// ("server", "client"), so a proof of one is never accepted as the other.
//
// WebCrypto (crypto.subtle) only: the same code runs in Node 20 (the CLI, Electron's main process,
// the agent) and in the browser (the web console, a secure context on http://127.0.0.1 or https).
// Verification uses crypto.subtle.verify, which compares in constant time.

export const HANDSHAKE_LABEL = 'ipfo-api-handshake-v2';
/** A nonce or a proof: 32 bytes as 64 lowercase hex digits. */
export const HEX32_PATTERN = /^[0-9a-f]{64}$/;

export type HandshakeRole = 'server' | 'client';

export interface Transcript {
  /** "ws:7790", "wss:443", "unix": see channelOfUrl. */
  channel: string;
  /** The client label of the hello, "" without one. */
  client: string;
  clientNonce: string;
  serverNonce: string;
}

/** 32 random bytes as hex. */
export function newNonce(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return toHex(bytes);
}

/** The channel a client dialled: "ws:PORT" / "wss:PORT" (the scheme's default port when the URL has none), "unix" for ws+unix. */
export function channelOfUrl(url: string): string {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme === 'ws+unix') return 'unix';
  const secure = scheme === 'wss' || scheme === 'https';
  const port = parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port);
  return `${secure ? 'wss' : 'ws'}:${port}`;
}

/** The channel of a TCP listener as the agent sees it. */
export function channelOfListener(tls: boolean, port: number): string {
  return `${tls ? 'wss' : 'ws'}:${port}`;
}

function transcriptText(role: HandshakeRole, transcript: Transcript): string {
  // Every field is free of newlines (hex, a label of [A-Za-z0-9._:@+-], a channel), so the joined text is unambiguous.
  return [HANDSHAKE_LABEL, role, transcript.channel, transcript.client, transcript.clientNonce, transcript.serverNonce].join('\n');
}

/** WebCrypto's key (named through the API: Node's types have no global CryptoKey without the DOM library). */
export type HandshakeKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** The token as an HMAC key (usable for both signing and verifying); import once per token. */
export function handshakeKey(token: string): Promise<HandshakeKey> {
  return crypto.subtle.importKey('raw', new TextEncoder().encode(token), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function keyOf(token: string | HandshakeKey): Promise<HandshakeKey> {
  return typeof token === 'string' ? handshakeKey(token) : token;
}

/** HMAC-SHA256(token, role's transcript) as hex. */
export async function prove(token: string | HandshakeKey, role: HandshakeRole, transcript: Transcript): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', await keyOf(token), new TextEncoder().encode(transcriptText(role, transcript)));
  return toHex(new Uint8Array(signature));
}

/** Whether `proof` is role's proof of this transcript (constant-time: crypto.subtle.verify). */
export async function checkProof(token: string | HandshakeKey, role: HandshakeRole, transcript: Transcript, proof: string): Promise<boolean> {
  if (!HEX32_PATTERN.test(proof)) return false;
  return crypto.subtle.verify('HMAC', await keyOf(token), fromHex(proof), new TextEncoder().encode(transcriptText(role, transcript)));
}

function toHex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}
