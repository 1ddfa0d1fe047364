// The agent API's login: a challenge–response in which no secret crosses the wire and the agent
// proves it holds the credential's verifier before the client sends anything that could log in
// anywhere (so an impostor that took the API's port learns nothing it can use):
//
//   client -> agent   hello { protocol, clientNonce, client?, user? }
//   agent -> client   { protocol, serverNonce, serverProof = HMAC(ServerKey, "server" transcript) }
//                     the client checks serverProof; a program without the verifier cannot make it
//   client -> agent   auth { proof = ClientKey XOR HMAC(StoredKey, "client" transcript) }
//   agent -> client   { protocol, actor, user, role }
//
// The keys are SCRAM's (RFC 5802) without the salt and iterations, which a 256-bit random secret
// does not need: ClientKey = HMAC(secret, "ipfo-client-key"), ServerKey = HMAC(secret,
// "ipfo-server-key"), StoredKey = SHA-256(ClientKey). The agent keeps only StoredKey and ServerKey
// (the verifier): it recovers ClientKey from the proof and checks its hash, so whoever reads the
// verifier from the store still cannot log in as the user. A secret is a user's ("alice:SECRET",
// users.ts) or the node's token (no user: the local root's admin credential).
//
// The transcript binds both proofs to both nonces (fresh per connection: a proof seen once is of no
// use on another connection), to the client label, to the user, and to the channel: the scheme and
// port the client dialled ("ws:7790", "wss:443") or "unix" for the local socket, which the agent
// compares with the listener the connection came in on. A program relaying between a client and the
// real agent therefore fails unless it serves on the very listener the agent holds; over TLS it
// would also need the agent's certificate. The two roles are separate messages ("server",
// "client"), so a proof of one is never accepted as the other.
//
// WebCrypto (crypto.subtle) only: the same code runs in Node 20 (the CLI, Electron's main process,
// the agent) and in the browser (the web console, a secure context on http://127.0.0.1 or https).
// Server proofs are checked with crypto.subtle.verify, client proofs by a constant-time comparison.
import type { Verifier } from './users';

export const HANDSHAKE_LABEL = 'ipfo-api-handshake-v3';
/** A nonce or a proof: 32 bytes as 64 lowercase hex digits. */
export const HEX32_PATTERN = /^[0-9a-f]{64}$/;

export type HandshakeRole = 'server' | 'client';

export interface Transcript {
  /** "ws:7790", "wss:443", "unix": see channelOfUrl. */
  channel: string;
  /** The client label of the hello, "" without one. */
  client: string;
  /** The user of the hello, "" for the node's token. */
  user: string;
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

function transcriptText(role: HandshakeRole, transcript: Transcript): Uint8Array<ArrayBuffer> {
  // Every field is free of newlines (hex, a label of [A-Za-z0-9._:@+-], a user name, a channel), so the joined text is unambiguous.
  return utf8([HANDSHAKE_LABEL, role, transcript.channel, transcript.client, transcript.user, transcript.clientNonce, transcript.serverNonce].join('\n'));
}

/** WebCrypto's key (named through the API: Node's types have no global CryptoKey without the DOM library). */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** What the agent holds to check a login: the verifier's two keys, imported once. */
export interface VerifierKeys {
  readonly storedKey: Uint8Array<ArrayBuffer>;
  readonly storedHmac: HmacKey;
  readonly serverHmac: HmacKey;
}

/** What a client holds: ClientKey, and the verifier's keys to check the agent's proof and sign. */
export interface CredentialKeys {
  readonly clientKey: Uint8Array<ArrayBuffer>;
  readonly verifier: VerifierKeys;
}

function hmacKey(bytes: Uint8Array<ArrayBuffer>): Promise<HmacKey> {
  return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

async function hmac(key: HmacKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** The keys of a secret (a user's or the node token): derive once per credential. */
export async function credentialKeys(secret: string): Promise<CredentialKeys> {
  const secretKey = await hmacKey(utf8(secret));
  const clientKey = await hmac(secretKey, utf8('ipfo-client-key'));
  const serverKey = await hmac(secretKey, utf8('ipfo-server-key'));
  const storedKey = await sha256(clientKey);
  return { clientKey, verifier: { storedKey, storedHmac: await hmacKey(storedKey), serverHmac: await hmacKey(serverKey) } };
}

/** The verifier of a secret, as the store keeps it (hex). */
export async function verifierOf(secret: string): Promise<Verifier> {
  const secretKey = await hmacKey(utf8(secret));
  const serverKey = await hmac(secretKey, utf8('ipfo-server-key'));
  const storedKey = await sha256(await hmac(secretKey, utf8('ipfo-client-key')));
  return { storedKey: toHex(storedKey), serverKey: toHex(serverKey) };
}

/** A stored verifier's keys, for the agent. */
export async function verifierKeys(verifier: Verifier): Promise<VerifierKeys> {
  const storedKey = fromHex(verifier.storedKey);
  return { storedKey, storedHmac: await hmacKey(storedKey), serverHmac: await hmacKey(fromHex(verifier.serverKey)) };
}

/** The agent's proof: HMAC(ServerKey, "server" transcript), hex. */
export async function serverProof(keys: VerifierKeys, transcript: Transcript): Promise<string> {
  return toHex(await hmac(keys.serverHmac, transcriptText('server', transcript)));
}

/**
 * The client's answer to the agent's hello: its proof, or null when the agent's proof is wrong
 * (then the client sends nothing more: the other end does not hold this credential's verifier).
 */
export async function answerChallenge(keys: CredentialKeys, transcript: Transcript, agentProof: string): Promise<string | null> {
  if (!HEX32_PATTERN.test(agentProof)) return null;
  if (!(await crypto.subtle.verify('HMAC', keys.verifier.serverHmac, fromHex(agentProof), transcriptText('server', transcript)))) return null;
  const signature = await hmac(keys.verifier.storedHmac, transcriptText('client', transcript));
  return toHex(xor(keys.clientKey, signature));
}

/** Whether `proof` is the client's proof of this transcript: ClientKey recovered from it hashes to StoredKey (compared in constant time). */
export async function checkClientProof(keys: VerifierKeys, transcript: Transcript, proof: string): Promise<boolean> {
  if (!HEX32_PATTERN.test(proof)) return false;
  const signature = await hmac(keys.storedHmac, transcriptText('client', transcript));
  const recovered = await sha256(xor(fromHex(proof), signature));
  let difference = 0;
  for (let index = 0; index < recovered.length; index++) difference |= (recovered[index] ?? 0) ^ (keys.storedKey[index] ?? 0);
  return difference === 0 && recovered.length === keys.storedKey.length;
}

function xor(a: Uint8Array<ArrayBuffer>, b: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length);
  for (let index = 0; index < a.length; index++) out[index] = (a[index] ?? 0) ^ (b[index] ?? 0);
  return out;
}

function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
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
