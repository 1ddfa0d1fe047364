// A webhook's signature: HMAC-SHA256 over the exact body bytes with the hook's secret, as hex
// (header X-Ipfo-Signature: sha256=<hex>), and the headers a webhook request carries.
import { createHmac } from 'node:crypto';
import type { HookPayload } from './payload';

export const SIGNATURE_HEADER = 'X-Ipfo-Signature';
export const SEQ_HEADER = 'X-Ipfo-Seq';
export const EVENT_HEADER = 'X-Ipfo-Event';
export const HOOK_HEADER = 'X-Ipfo-Hook';

/** "sha256=<64 hex>" of HMAC-SHA256(secret, body). */
export function signBody(secret: Buffer | string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The request headers of a webhook delivery (the signature only when there is a secret). */
export function webhookHeaders(payload: HookPayload, body: string, secret: Buffer | null): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'User-Agent': 'ipfo-hook/1',
    [SEQ_HEADER]: String(payload.seq),
    [EVENT_HEADER]: payload.event,
    [HOOK_HEADER]: payload.hook,
    ...(secret === null ? {} : { [SIGNATURE_HEADER]: signBody(secret, body) }),
  };
}

/** The secret as a secret file holds it: its bytes without one trailing newline (as `echo` writes it). */
export function secretFromFile(content: Buffer): Buffer {
  let end = content.length;
  if (end > 0 && content[end - 1] === 0x0a) end -= 1;
  if (end > 0 && content[end - 1] === 0x0d) end -= 1;
  return content.subarray(0, end);
}
