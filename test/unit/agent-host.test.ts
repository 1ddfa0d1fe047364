// `ipfo agent` chooses its machine by platform (main/cli/commands/agent-host.ts): the Linux host on
// linux, without loading any Windows module; the Windows host on win32 (here on a fake PowerShell).
// The order matters: the Linux test runs first in this process, before anything Windows is imported.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openAgentHost } from '../../main/cli/commands/agent-host';
import { linuxHost } from '../../main/host/linux-host';

const WINDOWS_MODULES = /[\\/]main[\\/](?:host[\\/]windows-host|net[\\/]windows[\\/](?:backend|owned|commands|parse))\.js$/;
const loaded = (): string[] => Object.keys(require.cache);

describe('ipfo agent: the host by platform', () => {
  test('linux: the Linux host and the state dir as given; no Windows module is loaded', async () => {
    const machine = await openAgentHost('linux', { stateDir: '/run/ipfo', linuxStateDir: '/run/ipfo', log: () => undefined });
    assert.equal(machine.host, linuxHost);
    assert.equal(machine.stateDir, '/run/ipfo');
    assert.equal(machine.renewWithDeadline, false);
    assert.equal(machine.host.addresses.settled(), null, 'Linux changes are done when the call returns');
    assert.deepEqual(loaded().filter((file) => WINDOWS_MODULES.test(file)), []);
    assert.ok(loaded().some((file) => /[\\/]main[\\/]host[\\/]linux-host\.js$/.test(file)), 'the check would see a loaded module');
  });

  test('win32: the Windows host, its first listing taken, the state dir under %ProgramData%', async () => {
    const { FakeWindows, MemoryRecords } = await import('./fake-windows.js');
    const { createWindowsAddressBackend } = await import('../../main/net/windows/backend.js');
    const { WindowsHost } = await import('../../main/host/windows-host.js');
    const windows = new FakeWindows();
    const previous = process.env.ProgramData;
    process.env.ProgramData = 'D:\\Data';
    try {
      const machine = await openAgentHost('win32', {
        stateDir: '/run/ipfo',
        linuxStateDir: '/run/ipfo',
        log: () => undefined,
        windows: { backend: createWindowsAddressBackend({ run: windows.run, records: new MemoryRecords([]), systemRoot: 'C:\\Windows' }), networkInterfaces: () => ({}) },
      });
      assert.ok(machine.host instanceof WindowsHost);
      assert.equal(machine.stateDir, 'D:\\Data\\ipfo\\run');
      assert.equal(machine.renewWithDeadline, true);
      assert.deepEqual(windows.scripts(), ['listAddresses'], 'opened with one listing');
      assert.equal(machine.host.addresses.listAll('Ethernet 2').length, 2, 'the synchronous calls answer from it');
      assert.ok(loaded().some((file) => WINDOWS_MODULES.test(file)));
      machine.close();
      const given = await openAgentHost('win32', { stateDir: 'E:\\ipfo', linuxStateDir: '/run/ipfo', log: () => undefined, windows: { backend: createWindowsAddressBackend({ run: windows.run, records: new MemoryRecords([]) }) } });
      assert.equal(given.stateDir, 'E:\\ipfo', 'a state dir given is kept');
      given.close();
    } finally {
      if (previous === undefined) delete process.env.ProgramData;
      else process.env.ProgramData = previous;
    }
  });

  test('other platforms are refused', async () => {
    await assert.rejects(openAgentHost('darwin', { stateDir: '/run/ipfo', linuxStateDir: '/run/ipfo', log: () => undefined }), /runs on Linux and Windows, not on darwin/);
  });
});
