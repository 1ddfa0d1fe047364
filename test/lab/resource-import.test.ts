// Bulk import and export on a real cluster (issue 13 §2): three agents on etcd in lab namespaces, driven
// by the real `ipfo resource import|export`. A file with bad rows names every one by line and field,
// exits 2 and creates nothing (etcd is read to be sure); --skip-invalid creates the good ones; a JSON
// import of a few dozen comes online; an export imports back unchanged (after the cluster forgot them);
// a viewer may export but not import (exit 4, nothing created); 900 rows in several batches, sent
// before the first is answered, are all created once and come online.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { ipfoArgv } from './ipfo';
import { formatCsvTable, formatJsonTable } from '../../main/cluster/resource-table';
import type { ResourceSpec } from '../../main/cluster/model';
import { importBatches } from '../../main/cli/commands/cluster/import';
import { addDrainRange, drainRange } from '../bench/drain-range';

const RESOURCE_KEYS = 'ipfo/default/resources/';

function spec(name: string, ip: string, extra: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    name, ip, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {},
    enabled: true, announceForm: 'request', defendPolicy: 'always', ...extra,
  };
}

describe('ipfo resource import and export on a real cluster', { timeout: 300_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let scratch: string;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 1, rogue: false, name: 'import' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    scratch = mkdtempSync(join(tmpdir(), 'ipfo-import-'));
  });
  after(async () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await cluster?.destroy();
    await lab?.destroy();
  });

  const file = (name: string, text: string): string => {
    const path = join(scratch, name);
    writeFileSync(path, text);
    return path;
  };

  /** The resource names etcd holds (the store itself, not an agent's view). */
  async function storedNames(): Promise<string[]> {
    const keys = await cluster.etcd!.etcdctlOk(['get', '--prefix', '--keys-only', RESOURCE_KEYS]);
    return keys.split('\n').filter((line) => line.startsWith(RESOURCE_KEYS)).map((line) => line.slice(RESOURCE_KEYS.length)).sort();
  }

  test('a CSV with bad rows: every one named FILE:LINE: field: message, exit 2, nothing created; --skip-invalid creates the good ones', async () => {
    const csv = file('mixed.csv', [
      'name,ip,owners,preferred,failback,interfaces,enabled',
      `good-1,${lab.vip(1)}/24,n1 n2,n1,immediate,,`,
      `good-2,${lab.vip(2)}/24,,,,n3=lan0,`,
      `bad-owner,${lab.vip(3)}/24,n9,,,,`,
      `bad-ip,${lab.vip(4)}/33,,,,,`,
      `good-1,${lab.vip(5)}/24,,,,,`,
      `bad-flag,${lab.vip(6)}/24,,,,,maybe`,
      `"too,many",${lab.vip(7)}/24,,,,,,extra`,
    ].join('\r\n'));
    const refused = await cluster.cli('n1', ['resource', 'import', csv]);
    assert.equal(refused.code, 2, refused.stderr);
    const lines = refused.stderr.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, -1).map((line) => line.split(': ').slice(0, 2).join(': ')), [
      `${csv}:4: owners`, `${csv}:4: owners`, `${csv}:5: ip`, `${csv}:6: name`, `${csv}:7: enabled`, `${csv}:8: the row has 8 cells, the header 7 (a list in a cell is separated by spaces, not commas)`,
    ]);
    assert.match(lines.at(-1)!, /^ipfo: 5 of 7 rows are bad: nothing was created/);
    assert.match(refused.stderr, /:4: owners: unknown node "n9"/);
    assert.match(refused.stderr, /:6: name: the name "good-1" is already used on line 2/);
    assert.deepEqual(await storedNames(), [], 'nothing in etcd');

    // --json: the same facts as JSON lines.
    const json = await cluster.cli('n1', ['resource', 'import', csv, '--json']);
    assert.equal(json.code, 2);
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; line?: number; field?: string; bad?: number; created?: number });
    assert.deepEqual(records.filter((r) => r.event === 'invalid').map((r) => [r.line, r.field]), [[4, 'owners'], [4, 'owners'], [5, 'ip'], [6, 'name'], [7, 'enabled'], [8, '']]);
    assert.deepEqual(records.filter((r) => r.event === 'summary').map((r) => [r.bad, r.created]), [[5, 0]]);
    assert.deepEqual(await storedNames(), []);

    const skipped = await cluster.cli('n1', ['resource', 'import', csv, '--skip-invalid']);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /^2 of 7 resources created in .*; 5 bad rows skipped; all settled after .*: 2 online$/m);
    assert.deepEqual(await storedNames(), ['good-1', 'good-2']);
    await cluster.waitOwner('n2', 'good-1', 'n1');
    const status = await cluster.status('n2');
    assert.equal(status.resources.find((r) => r.name === 'good-2')?.state, 'online');
  });

  test('a JSON import of a few dozen comes online; export gives the same text; export -> forget -> import -> export is identical', async () => {
    const specs = Array.from({ length: 36 }, (_, i) => spec(`bulk-${String(i).padStart(2, '0')}`, lab.vip(20 + i), {
      preferredOwners: [`n${1 + (i % 3)}`],
      failback: i % 2 === 0 ? { mode: 'immediate' } : { mode: 'window', startHour: 22, endHour: 6 },
      ...(i % 4 === 0 ? { announceCount: 3, announceIntervalMs: 500 } : {}),
      ...(i === 35 ? { enabled: false } : {}),
    }));
    const input = file('bulk.json', formatJsonTable(specs));
    const started = Date.now();
    const imported = await cluster.cli('n2', ['resource', 'import', input]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^36 of 36 resources created in .*; all settled after .*: 35 online$/m);
    const status = await cluster.status('n3');
    const bulk = status.resources.filter((r) => String(r.name).startsWith('bulk-'));
    assert.equal(bulk.length, 36);
    for (const resource of bulk) assert.equal(resource.state, resource.name === 'bulk-35' ? 'offline' : 'online', JSON.stringify(resource));
    assert.deepEqual(bulk.filter((r) => r.state === 'online').map((r) => r.owner), specs.slice(0, 35).map((s) => s.preferredOwners[0]), 'each on its preferred node');
    const answered = await lab.addresses('n1');
    assert.ok(answered.includes(`${lab.vip(20)}/24`), `n1 holds bulk-00's address (${Date.now() - started} ms after the import began)`);

    // Export: JSON as the input was written, CSV as the pure formatter writes it (good-1 and good-2 too).
    const all = [...specs, spec('good-1', lab.vip(1), { possibleOwners: ['n1', 'n2'], preferredOwners: ['n1'], failback: { mode: 'immediate' } }), spec('good-2', lab.vip(2), { interfaces: { n3: 'lan0' } })];
    const exportedJson = await cluster.cli('n3', ['resource', 'export']);
    assert.equal(exportedJson.code, 0, exportedJson.stderr);
    assert.equal(exportedJson.stdout, formatJsonTable(all));
    const csvPath = join(scratch, 'export.csv');
    const exportedCsv = await cluster.cli('n1', ['resource', 'export', '--output', csvPath]);
    assert.equal(exportedCsv.code, 0, exportedCsv.stderr);
    assert.match(exportedCsv.stdout, /^38 resources exported to .*export\.csv \(csv\)$/m);
    const csvText = readFileSync(csvPath, 'utf8');
    assert.equal(csvText, formatCsvTable(all));

    // The cluster forgets them all, then takes the export back.
    await cluster.etcd!.etcdctlOk(['del', '--prefix', RESOURCE_KEYS]);
    // ... and let go of their addresses (owner keys and statuses gone) before the same names come back.
    const deadline = Date.now() + 20_000;
    const left = async (): Promise<string> => (await cluster.etcd!.etcdctlOk(['get', '--prefix', '--keys-only', 'ipfo/default/owners/'])) + (await cluster.etcd!.etcdctlOk(['get', '--prefix', '--keys-only', 'ipfo/default/status/']));
    while ((await cluster.status('n1')).resources.length > 0 || (await left()).trim() !== '') {
      assert.ok(Date.now() < deadline, `the agents let the resources go: ${await left()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const again = await cluster.cli('n1', ['resource', 'import', csvPath]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^38 of 38 resources created in .*: 37 online$/m);
    const second = join(scratch, 'export-2.csv');
    assert.equal((await cluster.cli('n2', ['resource', 'export', '-o', second])).code, 0);
    assert.equal(readFileSync(second, 'utf8'), csvText, 'export -> import -> export: identical');
  });

  test('a viewer may export but not import: exit 4, nothing created', async () => {
    const added = await cluster.cli('n1', ['user', 'add', 'vera', '--role', 'viewer', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const credential = join(scratch, 'vera.cred');
    writeFileSync(credential, `${(JSON.parse(added.stdout) as { credential: string }).credential}\n`, { mode: 0o600 });
    chmodSync(credential, 0o600);
    const as = (args: readonly string[]) => lab.run('n2', ipfoArgv([...args, '--agent', '127.0.0.1:7790', '--credential-file', credential]), { timeoutMs: 60_000 });
    const before = await storedNames();
    const input = file('viewer.csv', `name,ip\nviewer-1,${lab.vip(90)}/24\nviewer-2,${lab.vip(91)}/24\n`);
    const refused = await as(['resource', 'import', input]);
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /vera has the viewer role; resource\.import needs admin/);
    assert.deepEqual(await storedNames(), before, 'nothing created');
    const exported = await as(['resource', 'export', '--format', 'csv']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trimEnd().split('\n').length, 1 + before.length);
  });

  test('an import of several batches, sent before the first is answered: every row created once, all online', async () => {
    const range = drainRange(lab);
    await addDrainRange(lab, range);
    const before = await storedNames();
    const specs = range.virtualAddresses(900).map((ip, i) => spec(`many-${String(i).padStart(3, '0')}`, ip, { prefix: range.prefix }));
    const input = file('many.csv', formatCsvTable(specs));
    const imported = await cluster.cli('n3', ['resource', 'import', input, '--json'], 120_000);
    assert.equal(imported.code, 0, imported.stderr);
    const summary = imported.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((record) => record.event === 'summary');
    assert.deepEqual({ created: summary?.created, online: summary?.online, failed: summary?.failed }, { created: 900, online: 900, failed: 0 }, imported.stdout);
    assert.ok(importBatches(specs).length >= 3, 'several batches: requests went out before the first was answered');
    assert.deepEqual(await storedNames(), [...before, ...specs.map((s) => s.name)].sort());
    const wanted = new Set(specs.map((s) => `${s.ip}/${s.prefix}`));
    const held = (await Promise.all(['n1', 'n2', 'n3'].map((node) => lab.addresses(node)))).flat().filter((address) => wanted.has(address));
    assert.equal(new Set(held).size, 900, 'every address held by a node');
    assert.equal(held.length, 900, 'and by one node only');
  });
});
