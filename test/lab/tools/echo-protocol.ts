// Wire format shared by udp-stream (requests) and udp-echo (replies): small
// JSON objects, cheap enough at 1000 datagrams/s and readable in a capture.
//   request: {"seq":17,"t":123.456}            t = sender's clock, ms
//   reply:   {"host":"n1","seq":17,"t":123.456} seq/t echoed, null if the
//            request was not ours (any datagram gets a reply naming the host)

export interface EchoRequest {
  seq: number;
  t: number;
}

export interface EchoReply {
  host: string;
  seq: number | null;
  t: number | null;
}

export const DEFAULT_ECHO_PORT = 7000;

function parseObject(payload: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function encodeRequest(request: EchoRequest): Buffer {
  return Buffer.from(JSON.stringify(request));
}

export function decodeRequest(payload: Buffer): EchoRequest | null {
  const value = parseObject(payload);
  if (value === null || !Number.isSafeInteger(value.seq) || typeof value.t !== 'number') return null;
  return { seq: value.seq as number, t: value.t };
}

export function encodeReply(reply: EchoReply): Buffer {
  return Buffer.from(JSON.stringify(reply));
}

export function decodeReply(payload: Buffer): EchoReply | null {
  const value = parseObject(payload);
  if (value === null || typeof value.host !== 'string') return null;
  return {
    host: value.host,
    seq: Number.isSafeInteger(value.seq) ? (value.seq as number) : null,
    t: typeof value.t === 'number' ? value.t : null,
  };
}

/** "10.213.7.101:7000" -> { address, port }; throws on anything else. */
export function parseTarget(text: string): { address: string; port: number; family: 4 | 6 } {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const v6 = /^\[([0-9a-f:]+)\]:(\d{1,5})$/.exec(text);
  const match = v4 ?? v6;
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || !(port > 0 && port < 65536)) throw new Error(`--to wants ipv4:port or [ipv6]:port, got "${text}"`);
  return { address: match[1], port, family: v4 !== null ? 4 : 6 };
}
