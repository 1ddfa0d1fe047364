// The API token: 32 random bytes as 64 lowercase hex digits. Everyone holding it has full rights
// over the cluster, so it is compared in constant time and never logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;

export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

export function isTokenFormat(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Constant-time equality. Both sides are hashed first so the comparison always runs over 32 bytes:
 * timingSafeEqual needs equal lengths, and an early length check would tell an attacker the length.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
