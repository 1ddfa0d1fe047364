// Bad input gives exit 2 with a one-line reason and changes nothing; a missing permission gives exit 4.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab, type LabHost } from './lab';
import { ipfoArgv, runIpfo } from './ipfo';

describe('ipfo rejects bad input without touching the system', () => {
  let lab: Lab;
  let n1: LabHost;
  let vip: string;

  before(async () => {
    lab = await createLab({ nodes: 1, clients: 0, rogue: false, name: 'cli-input' });
    n1 = lab.host('n1');
    vip = lab.vip(1);
  });
  after(async () => {
    await lab?.destroy();
  });

  const badDevs = ['lan 0', 'lan0;id', 'a/b', 'abcdefghijklmnop', 'nosuch0', ''];
  const cases = (): string[][] => [
    ['probe', '10.213.0.256', '--dev', 'lan0'],
    ['probe', 'abc', '--dev', 'lan0'],
    ['probe', '10.1.2', '--dev', 'lan0'],
    ['probe', '010.1.2.3', '--dev', 'lan0'],
    ['probe', vip],
    ['probe', vip, '--dev', 'lan0', '--timeout-ms', '-5'],
    ['claim', `${vip}/33`, '--dev', 'lan0'],
    ['claim', `${vip}/x`, '--dev', 'lan0'],
    ['claim', `${vip}/`, '--dev', 'lan0'],
    ['claim', vip, '--dev', 'lan0'],
    ['claim', '300.1.1.1/24', '--dev', 'lan0'],
    ['claim', `${vip}/24`, '--dev', 'lan0', '--defend', 'sometimes'],
    ['claim', `${vip}/24`, '--dev', 'lan0', '--trusted-mac', 'zz:zz:zz:zz:zz:zz'],
    ['claim', `${vip}/24`, '--dev', 'lan0', '--bogus-flag'],
    ['frobnicate'],
    ...badDevs.flatMap((dev) => [
      ['probe', vip, '--dev', dev],
      ['claim', `${vip}/24`, '--dev', dev],
      ['watch', '--dev', dev],
    ]),
  ];

  test('every bad input exits 2 with one line on stderr and leaves ip addr unchanged', async () => {
    const before = await lab.run(n1, ['ip', '-j', 'addr']);
    for (const args of cases()) {
      const result = await runIpfo(lab, n1, args);
      assert.equal(result.code, 2, `ipfo ${JSON.stringify(args)} exited ${result.code}: ${result.stderr}`);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line for ${JSON.stringify(args)}: ${result.stderr}`);
      assert.match(lines[0]!, /^ipfo: \S/);
      assert.equal(result.stdout, '', `nothing on stdout for ${JSON.stringify(args)}`);
    }
    const afterAll = await lab.run(n1, ['ip', '-j', 'addr']);
    assert.equal(afterAll.stdout, before.stdout);
  });

  test('an unknown interface is named in the message', async () => {
    const result = await runIpfo(lab, n1, ['probe', vip, '--dev', 'nosuch0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no such interface "nosuch0"/);
  });

  test('without CAP_NET_RAW: exit 4 and a reason that says so', async () => {
    // setpriv drops to nobody with no capabilities, inside the node's namespace.
    const argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...ipfoArgv(['probe', vip, '--dev', 'lan0'])];
    const result = await lab.run(n1, argv, { timeoutMs: 10_000 });
    assert.equal(result.code, 4, `exit ${result.code}: ${result.stderr}`);
    assert.match(result.stderr, /^ipfo: no permission to capture on "lan0"/m);
    const claim = await lab.run(n1, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...ipfoArgv(['claim', `${vip}/24`, '--dev', 'lan0'])], { timeoutMs: 10_000 });
    assert.equal(claim.code, 4, claim.stderr);
    assert.ok(!(await lab.addresses(n1)).includes(`${vip}/24`));
  });
});
