// A WebSocket text message as a string, whichever buffer shape `ws` delivered it in.
import type { RawData } from 'ws';

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
