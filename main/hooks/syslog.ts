// A hook's syslog message (pure): RFC 5424, one per UDP datagram (RFC 5426), which rsyslog's imudp
// parses as such. Facility daemon; severity notice for an entry that went well, warning otherwise.
// The structured data [ipfo@32473 ...] carries the seq (idempotency key), event, hook and target; the
// message is the payload's JSON.
import type { HookPayload } from './payload';

const FACILITY_DAEMON = 3;
const SEVERITY_WARNING = 4;
const SEVERITY_NOTICE = 5;
/** The SD-ID's enterprise number: 32473 is the one RFC 5612 reserves for documentation and examples. */
export const SD_ID = 'ipfo@32473';

/** An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 §6.3.3). */
export function sdValue(text: string): string {
  return text.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without blanks, at most `max`, "-" when empty. */
function headerField(text: string, max: number): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface SyslogFields {
  hostname: string;
  procId: number;
}

export function syslogMessage(payload: HookPayload, body: string, fields: SyslogFields): string {
  const severity = payload.outcome === 'ok' || payload.outcome === 'started' ? SEVERITY_NOTICE : SEVERITY_WARNING;
  const pri = FACILITY_DAEMON * 8 + severity;
  const sd = `[${SD_ID} seq="${payload.seq}" event="${sdValue(payload.event)}" hook="${sdValue(payload.hook)}" target="${sdValue(payload.target ?? '')}" outcome="${payload.outcome}"]`;
  return `<${pri}>1 ${payload.at} ${headerField(fields.hostname, 255)} ipfo ${fields.procId} ${headerField(payload.event, 32)} ${sd} ${body}`;
}
