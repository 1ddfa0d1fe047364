// The one error class of the neighbour discovery codec (nd/codec.ts, its options, rules and builders):
// a code to count and branch on, and the byte offset of the problem when it is in bytes being decoded.
import { AddressError } from '../arp/addresses';
import { FrameCodecError, type WireErrorCode, type WireFailure } from '../arp/wire';

export type NdCodecErrorCode =
  | WireErrorCode
  /** Ethernet payload is not IPv6 (ethertype is not 0x86dd). */
  | 'NOT_IPV6'
  | 'BAD_IP_VERSION'
  /** An IPv6 extension header (hop-by-hop, routing, fragment...) before ICMPv6: ND never carries one. */
  | 'EXTENSION_HEADER'
  | 'NOT_ICMPV6'
  /** IPv6 payload length too short for the message. */
  | 'BAD_PAYLOAD_LENGTH'
  /** ICMPv6, but not a neighbour solicitation (135) or advertisement (136). */
  | 'NOT_ND'
  | 'BAD_CHECKSUM'
  | 'BAD_CODE'
  | 'ZERO_LENGTH_OPTION'
  | 'OPTION_OVERRUN'
  /** A source/target link-layer address option that is not 8 bytes (one 6-byte MAC). */
  | 'BAD_LINK_ADDR_OPTION'
  | 'DUPLICATE_OPTION'
  // RFC 4861 §7.1.1 / §7.1.2 validity, and RFC 4291 §2.7 (no multicast source).
  | 'MULTICAST_SOURCE'
  | 'MULTICAST_TARGET'
  | 'BAD_DAD_DESTINATION'
  | 'DAD_WITH_LINK_ADDR'
  | 'SOLICITED_TO_MULTICAST'
  // Encoding a frame object.
  | 'BAD_FRAME'
  | 'BAD_MAC'
  | 'BAD_IPV6'
  | 'BAD_HOP_LIMIT'
  | 'BAD_TYPE'
  | 'BAD_FLAG';

export class NdCodecError extends FrameCodecError<NdCodecErrorCode> {
  override readonly name = 'NdCodecError';
}

/** For the shared Ethernet helpers of arp/wire.ts. */
export const ndFailure: WireFailure = (code, message, byteOffset) => new NdCodecError(code, message, byteOffset);

/**
 * Runs an address parse, re-raising its AddressError as the codec's own error, prefixed with `context`.
 * NOT_HOST_ADDRESS comes only from the solicited-node group of a multicast target.
 */
export function parsingAddress<T>(context: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof AddressError)) throw error;
    const codes: Partial<Record<AddressError['code'], NdCodecErrorCode>> = { BAD_MAC: 'BAD_MAC', NOT_HOST_ADDRESS: 'MULTICAST_TARGET' };
    throw new NdCodecError(codes[error.code] ?? 'BAD_IPV6', `${context}: ${error.message}`, null, { cause: error });
  }
}
