// Interface names as Linux could have given them (main/net/ifname.ts), checked without /sys.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceError, validateIfname } from '../../main/net/ifname';
import { InterfaceError as ReExported } from '../../main/net/interfaces';

describe('validateIfname', () => {
  test('accepts real names, up to 15 bytes', () => {
    for (const good of ['eth0', 'ens4.100', 'ipfo-ra012345', 'a'.repeat(15)]) assert.doesNotThrow(() => validateIfname(good), good);
  });

  test('refuses empty, long, and names that could not exist or read as syntax', () => {
    for (const bad of ['', 'a'.repeat(16), 'é'.repeat(8), '.', '..', 'eth0:1', 'a/b', 'a b', 'a;b', 'a\0b', 'a\nb']) {
      assert.throws(() => validateIfname(bad), (error: unknown) => error instanceof InterfaceError && error.code === 'BAD_IFNAME', JSON.stringify(bad));
    }
  });

  test('interfaces.ts hands out the same error class, so exit codes still map it', () => {
    assert.equal(ReExported, InterfaceError);
  });
});
