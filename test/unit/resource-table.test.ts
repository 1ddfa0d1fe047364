// Bulk import and export (main/cluster/resource-table.ts): fixed vectors for both formats, every bad
// row named by line and field, hostile input (quotes, BOM, CRLF, blank lines, broken headers, too many
// cells, huge files), duplicates inside the file and against the cluster, and the round trip
// export -> import -> the same specs, for hand-made specs and 10,000 generated ones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceSpec } from '../../main/cluster/model';
import {
  checkTable,
  csvColumnOf,
  formatCsvTable,
  formatJsonTable,
  formatOfFileName,
  formatTable,
  jsonErrorOffset,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_ROWS,
  parseTable,
  readResourceTable,
  type RowIssue,
  type TableContext,
  type TableFormat,
} from '../../main/cluster/resource-table';
import { importBatches, SettleTracker } from '../../main/cli/commands/cluster/import';
import { MAX_CLIENT_MESSAGE_BYTES } from '../../preload/contract/protocol';
import { progressText, ProgressReporter } from '../../main/cli/progress';

const CONTEXT: TableContext = { nodes: ['n1', 'n2', 'n3'], existing: [] };

function spec(name: string, ip: string, extra: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    name, ip, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {},
    enabled: true, announceForm: 'request', defendPolicy: 'always', ...extra,
  };
}

/** Specs that use every field and every form of each. */
const VARIED: ResourceSpec[] = [
  spec('web', '10.213.0.50'),
  spec('db', '10.213.0.51', { prefix: 22, possibleOwners: ['n1', 'n2'], preferredOwners: ['n2', 'n1'], failback: { mode: 'immediate' }, interfaces: { n1: 'eth1', n2: 'lan0.10' }, retries: 3, banForSec: 90, failoverThreshold: { count: 5, windowSec: 3600 } }),
  spec('mail-1', '10.213.0.52', { failback: { mode: 'window', startHour: 22, endHour: 6 }, enabled: false, announceForm: 'both', defendPolicy: 'once', announceCount: 4, announceIntervalMs: 250, retries: 0, failoverThreshold: { count: 2, windowSec: 5400 } }),
  spec('Cache.2', '192.168.7.1', { prefix: 32, maintenanceUntil: Date.UTC(2026, 11, 4, 15, 0, 0, 123), defendPolicy: 'never', announceForm: 'reply' }),
  spec('far', '172.16.0.9', { prefix: 31, maintenanceUntil: 9_000_000_000_000_000, failback: { mode: 'window', startHour: 0, endHour: 23 }, announceRefreshSec: 3600 }),
];

function read(text: string, format: TableFormat, context: TableContext = CONTEXT) {
  return readResourceTable(text, format, context);
}

function lines(issues: readonly RowIssue[]): string[] {
  return issues.map((issue) => `${issue.line}: ${issue.field}: ${issue.message}`);
}

const byName = (a: ResourceSpec, b: ResourceSpec): number => (a.name < b.name ? -1 : 1);

describe('CSV import: the periodic re-announcement', () => {
  test('announce-refresh-sec: whole seconds from 1 to 86400, empty for none; anything else named by line and field', () => {
    const header = 'name,ip,announce-refresh-sec';
    const good = read(`${header}\nweb,10.213.0.50/24,60\ndb,10.213.0.51/24,\n`, 'csv');
    assert.deepEqual(good.issues, []);
    assert.deepEqual(good.valid.map((row) => row.spec.announceRefreshSec), [60, undefined]);
    const bad = read(`${header}\nweb,10.213.0.50/24,0\ndb,10.213.0.51/24,86401\nmx,10.213.0.52/24,1m\n`, 'csv');
    assert.deepEqual(bad.valid, []);
    assert.deepEqual(lines(bad.issues), [
      '2: announce-refresh-sec: announceRefreshSec must be a whole number from 1 to 86400 s (got 0)',
      '3: announce-refresh-sec: announceRefreshSec must be a whole number from 1 to 86400 s (got 86401)',
      '4: announce-refresh-sec: announce-refresh-sec must be a whole number (got "1m")',
    ]);
  });
});

describe('CSV import: the failure policy', () => {
  test('retries, ban-for-sec and failover-threshold (COUNT/WINDOW); empty cells are the defaults; bad ones named by line and column', () => {
    const header = 'name,ip,retries,ban-for-sec,failover-threshold';
    const good = read(`${header}\nweb,10.213.0.50/24,2,60,3/30m\ndb,10.213.0.51/24,,,\n`, 'csv');
    assert.deepEqual(good.issues, []);
    assert.deepEqual(good.valid.map((row) => [row.spec.retries, row.spec.banForSec, row.spec.failoverThreshold]), [[2, 60, { count: 3, windowSec: 1800 }], [undefined, undefined, undefined]]);
    const bad = read(`${header}\nweb,10.213.0.50/24,11,0,5\ndb,10.213.0.51/24,1,604801,0/1h\nmx,10.213.0.52/24,-1,,5/30s\n`, 'csv');
    assert.deepEqual(bad.valid, []);
    assert.deepEqual(lines(bad.issues), [
      '2: failover-threshold: failover-threshold: expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d) (got "5")',
      '3: failover-threshold: failover-threshold: the count must be 1..100 (got "0/1h")',
      '4: retries: retries must be a whole number (got "-1")',
      '4: failover-threshold: failover-threshold: the window must be 1 minute to 7 days (got "5/30s")',
    ]);
    const ranges = read(`${header}\nweb,10.213.0.50/24,11,0,\n`, 'csv');
    assert.deepEqual(lines(ranges.issues), [
      '2: retries: retries must be a whole number from 0 to 10 (got 11)',
      '2: ban-for-sec: banForSec must be a whole number from 1 to 604800 s (got 0)',
    ]);
  });
});

describe('health checks in a table', () => {
  const tcpAndHttp = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 80 }, { kind: 'http' as const, url: 'http://127.0.0.1/ready', expectStatus: 204 }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 3 };
  const spaced = { checks: [{ kind: 'exec' as const, argv: ['/usr/local/bin/check', 'two words'] }, { kind: 'gateway' as const }], intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2 };
  const CHECKED = [spec('api', '10.213.0.60', { health: tcpAndHttp }), spec('job', '10.213.0.61', { health: spaced }), spec('plain', '10.213.0.62')];

  test('CSV: checks as --check spells them, between " | "; a JSON array when a spelling would not read back', () => {
    const text = formatCsvTable(CHECKED);
    const rows = text.trimEnd().split('\n').slice(1);
    assert.equal(rows[0], 'api,10.213.0.60/24,,,never,,true,request,always,,,,,tcp:127.0.0.1:80 | http://127.0.0.1/ready =204,500,200,2,3,,,,,');
    assert.match(rows[1]!, /^job,.*,"\[\{""kind"":""exec"",""argv"":\[""\/usr\/local\/bin\/check"",""two words""\]\},\{""kind"":""gateway""\}\]",2000,1000,3,2,,,,,$/);
    assert.equal(rows[2], 'plain,10.213.0.62/24,,,never,,true,request,always,,,,,,,,,,,,,,');
  });

  for (const format of ['csv', 'json'] as const) {
    test(`${format}: checks round-trip unchanged`, () => {
      const text = formatTable(CHECKED, format);
      const back = read(text, format);
      assert.deepEqual(back.issues, []);
      assert.deepEqual(back.valid.map((row) => row.spec), [...CHECKED].sort(byName));
      assert.equal(formatTable(back.valid.map((row) => row.spec), format), text);
    });
  }

  test('CSV: defaults fill the timing; a bad check or timing without checks is named by line and column', () => {
    const good = read('name,ip,checks\nweb,10.213.0.50/24,tcp:127.0.0.1:80\n', 'csv');
    assert.deepEqual(good.valid[0]?.spec.health, { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }], intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2 });
    const bad = read('name,ip,checks,fall\nweb,10.213.0.50/24,tcp:127.0.0.1,\ndb,10.213.0.51/24,,2\nmx,10.213.0.52/24,exec:/bin/true,0\n', 'csv');
    assert.deepEqual(bad.valid, []);
    assert.deepEqual(lines(bad.issues), [
      '2: checks: "tcp:127.0.0.1": a TCP check is tcp:HOST:PORT',
      '3: checks: health.checks must list at least one check',
      '4: fall: health.fall must be a whole number from 1 to 100 (got 0)',
    ]);
  });
});

describe('CSV import: fixed vectors', () => {
  test('a header, rows with every column, lists separated by spaces', () => {
    const text = [
      'name,ip,owners,preferred,failback,interfaces,enabled,announce-form,defend,announce-count,announce-interval-ms,maintenance-until,retries,ban-for-sec,failover-threshold',
      'web,10.213.0.50/24,,,,,,,,,,,,,',
      'db,10.213.0.51/22,n1 n2,n2 n1,immediate,n1=eth1 n2=lan0.10,true,request,always,,,,3,90,5/1h',
      'mail-1,10.213.0.52/24,,,22-06,,false,both,once,4,250,,0,,2/90m',
      'Cache.2,192.168.7.1/32,,,never,,,reply,never,,,2026-12-04T15:00:00.123Z,,,',
    ].join('\n');
    const result = read(text, 'csv');
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.valid.map((row) => row.line), [2, 3, 4, 5]);
    assert.deepEqual(result.valid.map((row) => row.spec), VARIED.slice(0, 4));
  });

  test('columns in any order, only name and ip required; ip with a separate prefix column', () => {
    const result = read('ip,prefix,name\n10.213.0.50,24,web\n', 'csv');
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.valid[0]?.spec, spec('web', '10.213.0.50'));
  });

  test('BOM, CRLF, blank lines, quoted cells with commas, quotes and line breaks, blanks around cells', () => {
    const text = '\ufeffname,ip,owners\r\n\r\n"web", 10.213.0.50/24 ,"n1 n2"\r\n   \r\n"d""b",10.213.0.51/24,\r\n"x\ny",10.213.0.52/24,\r\nok,10.213.0.53/24,n3\r\n';
    const result = read(text, 'csv');
    assert.deepEqual(result.valid.map((row) => [row.line, row.spec.name, row.spec.possibleOwners]), [[3, 'web', ['n1', 'n2']], [8, 'ok', ['n3']]]);
    // The quoted names are read exactly (with their quote and line break) and then refused by the name rule, on their lines.
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[5, 'name'], [6, 'name']]);
    assert.match(result.issues[0]!.message, /"d\\"b"/);
  });
});

describe('CSV import: every bad row by line and field, nothing else', () => {
  test('bad cells and bad values: each named with the column an operator wrote', () => {
    const text = [
      'name,ip,owners,preferred,failback,interfaces,enabled,announce-count',
      'ok,10.213.0.50/24,,,,,,', // 2 good
      'bad ip,10.213.0.300/24,,,,,,', // 3 name and ip
      'b,10.213.0.51/24,n9,,,,,', // 4 unknown owner
      'c,10.213.0.52/24,n1,n2,,,,', // 5 preferred not possible
      'd,10.213.0.53/24,,,25-3,,,', // 6 failback hours
      'e,10.213.0.54/24,,,sometimes,,,', // 7 failback word
      'f,10.213.0.55/24,,,,n1:eth1,,', // 8 interfaces syntax
      'g,10.213.0.56/24,,,,n1=bad/if,,', // 9 interface name
      'h,10.213.0.57/24,,,,,yes,', // 10 enabled
      'i,10.213.0.58/24,,,,,,11', // 11 announce count
      'j,10.213.0.0/24,,,,,,', // 12 network address
      'k,10.213.0.59,,,,,,', // 13 no prefix
    ].join('\n');
    const result = read(text, 'csv');
    assert.deepEqual(result.valid.map((row) => row.spec.name), ['ok']);
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [
      // An unknown owner is two facts: that node is unknown, and so the resource could run nowhere.
      [3, 'name'], [3, 'ip'], [4, 'owners'], [4, 'owners'], [5, 'preferred'], [6, 'failback'], [7, 'failback'], [8, 'interfaces'], [9, 'interfaces'],
      [10, 'enabled'], [11, 'announce-count'], [12, 'ip'], [13, 'prefix'],
    ]);
    assert.equal(result.badRows, 11);
    for (const issue of result.issues) assert.ok(issue.message.length > 0 && !issue.message.includes('\n'), issue.message);
    assert.match(lines(result.issues).join('\n'), /4: owners: unknown node "n9"/);
  });

  test('duplicates inside the file (name ignoring case, address) and against the cluster', () => {
    const context: TableContext = { nodes: ['n1'], existing: [spec('Old', '10.213.0.9')] };
    const text = 'name,ip\nweb,10.213.0.50/24\nWEB,10.213.0.51/24\nother,10.213.0.50/24\nold,10.213.0.60/24\nnew,10.213.0.9/24\n';
    const result = read(text, 'csv', context);
    assert.deepEqual(result.valid.map((row) => row.spec.name), ['web']);
    assert.deepEqual(lines(result.issues), [
      '3: name: the name "WEB" is already used on line 2',
      '4: ip: 10.213.0.50 is already the address on line 2',
      '5: name: a resource named "Old" already exists',
      '6: ip: 10.213.0.9 is already the address of resource "Old"',
    ]);
  });

  test('too many or too few cells, a stray quote, an unclosed quote', () => {
    const result = read('name,ip\na,10.213.0.50/24,extra\nb\nc,10.213.0.52/24\nd"x,10.213.0.53/24\n', 'csv');
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[2, ''], [3, ''], [5, '']]);
    assert.match(result.issues[0]!.message, /3 cells, the header 2/);
    assert.deepEqual(result.valid.map((row) => row.spec.name), ['c'], 'rows before the broken quote are read');
    const unclosed = read('name,ip\na,10.213.0.50/24\n"b,10.213.0.51/24\nc,10.213.0.52/24\n', 'csv');
    assert.deepEqual(lines(unclosed.issues), ['3: : a quoted cell is never closed (a " is missing)']);
  });

  test('a wrong header refuses the whole file: unknown or repeated column, no name or ip, empty file', () => {
    assert.deepEqual(lines(read('name,ip,owner\nweb,10.213.0.50/24,n1\n', 'csv').issues), ['1: column 3: unknown column "owner" (columns: name, ip, prefix, owners, preferred, failback, interfaces, enabled, announce-form, defend, announce-count, announce-interval-ms, announce-refresh-sec, maintenance-until, checks, check-interval-ms, check-timeout-ms, fall, rise, retries, ban-for-sec, failover-threshold, group, apart-from)']);
    assert.match(lines(read('name,ip,ip\n', 'csv').issues)[0]!, /^1: ip: column "ip" appears twice/);
    assert.match(lines(read('name,owners\nweb,n1\n', 'csv').issues)[0]!, /^1: : the header has no ip column/);
    assert.match(lines(read('web,10.213.0.50/24\n', 'csv').issues)[0]!, /unknown column "web"/, 'a file without a header is not read as data');
    assert.match(lines(read('', 'csv').issues)[0]!, /the file is empty/);
    assert.match(lines(read('\ufeff\r\n\r\n', 'csv').issues)[0]!, /the file is empty/);
    assert.deepEqual(read('name,ip\n', 'csv'), { valid: [], issues: [], badRows: 0 }, 'a header alone: nothing to do');
  });

  test('maintenance-until: ISO UTC or ms; impossible dates refused', () => {
    const result = read('name,ip,maintenance-until\na,10.213.0.50/24,2026-02-30T00:00:00Z\nb,10.213.0.51/24,tomorrow\nc,10.213.0.52/24,1700000000000\n', 'csv');
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[2, 'maintenance-until'], [3, 'maintenance-until']]);
    assert.equal(result.valid[0]?.spec.maintenanceUntil, 1_700_000_000_000);
  });

  test('hostile cells: a node named like an Object member, control characters, a huge cell', () => {
    const result = read(`name,ip,interfaces,owners\na,10.213.0.50/24,__proto__=eth0,constructor\nb,10.213.0.51/24,,"n1\u0000"\nc,10.213.0.52/24,,${'n'.repeat(100_000)}\n`, 'csv');
    assert.deepEqual(result.valid, []);
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[2, 'owners'], [2, 'owners'], [2, 'interfaces'], [3, 'owners'], [3, 'owners'], [4, 'owners'], [4, 'owners']]);
    assert.match(result.issues[2]!.message, /unknown node "__proto__"/);
    for (const issue of result.issues) assert.ok(issue.message.length < 400, 'messages quote at most a bounded part of the input');
    assert.equal(Object.getPrototypeOf({}), Object.prototype, 'nothing was written into a prototype');
  });

  test('huge files are refused whole, before any row is checked', () => {
    const big = read(`name,ip\n${'x'.repeat(MAX_IMPORT_BYTES)}`, 'csv');
    assert.deepEqual(big.valid, []);
    assert.match(big.issues[0]!.message, /larger than 32 MiB/);
    const many = read(`name,ip\n${'a,b\n'.repeat(MAX_IMPORT_ROWS + 2)}`, 'csv');
    assert.deepEqual(many.valid, []);
    assert.match(many.issues[0]!.message, /more than 100000 rows/);
    const manyJson = read(`[${Array.from({ length: MAX_IMPORT_ROWS + 1 }, () => '{}').join(',')}]`, 'json');
    assert.match(manyJson.issues[0]!.message, /more than 100000 rows/);
  });
});

describe('JSON import', () => {
  test('an array of definitions, each with the line its object starts on; ip may carry the prefix', () => {
    const text = '\ufeff[\n  {"name": "web", "ip": "10.213.0.50/24"},\n  {\n    "name": "db",\n    "ip": "10.213.0.51", "prefix": 22, "possibleOwners": ["n1", "n2"], "preferredOwners": ["n2", "n1"],\n    "failback": {"mode": "immediate"}, "interfaces": {"n1": "eth1", "n2": "lan0.10"},\n    "retries": 3, "banForSec": 90, "failoverThreshold": {"count": 5, "windowSec": 3600}\n  }\n]\n';
    const result = read(text, 'json');
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.valid.map((row) => [row.line, row.spec]), [[2, VARIED[0]], [3, VARIED[1]]]);
  });

  test('bad elements by line and field; strings with brackets do not confuse the line count', () => {
    const text = '[\n{"name": "a[{,", "ip": "10.213.0.50/24"},\n42,\n{"name": "b", "ip": "10.213.0.51/24", "prefered": ["n1"]},\n{"name": "c", "ip": "10.213.0.52/24", "prefix": "24"},\n{"name": "d", "ip": "10.213.0.53/24", "enabled": "no"}\n]';
    const result = read(text, 'json');
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[2, 'name'], [3, ''], [4, 'prefered'], [5, 'prefix'], [6, 'enabled']]);
    assert.equal(result.badRows, 5);
  });

  test('the line of a syntax error, whether or not JSON.parse names a position', () => {
    assert.equal(jsonErrorOffset('[1, 2]'), 6);
    assert.equal(jsonErrorOffset('[1, 2'), 5);
    assert.equal(jsonErrorOffset('{"a": [1, {"b": tru}]}'), 16);
    assert.equal(jsonErrorOffset('[1,]'), 3);
    assert.equal(jsonErrorOffset('{"a" 1}'), 5);
    assert.equal(jsonErrorOffset('[] x'), 3);
    assert.equal(jsonErrorOffset(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 200_000, 'deep nesting: no stack overflow');
    assert.equal(read('[\n1,\n2\n', 'json').issues[0]?.line, 4);
    assert.equal(read('[\n{"a": 1},\n{"b": }\n]', 'json').issues[0]?.line, 3);
  });

  test('not JSON, not an array: one issue with a line', () => {
    const broken = read('[\n{"name": "a"},\n{"name": }\n]', 'json');
    assert.equal(broken.issues.length, 1);
    assert.match(broken.issues[0]!.message, /^not valid JSON/);
    assert.equal(broken.issues[0]!.line, 3);
    assert.match(read('{"name": "web"}', 'json').issues[0]!.message, /must be an array/);
  });
});

describe('checkTable (the agent checks each request with it)', () => {
  test('validator fields unchanged, lines are what the caller gives (the agent: the row index)', () => {
    const result = checkTable([{ line: 0, input: { name: 'a', ip: '10.213.0.50/24', possibleOwners: ['n7'] } }, { line: 1, input: { name: 'b', ip: '10.213.0.51/24' } }], CONTEXT);
    assert.deepEqual(result.issues.map((issue) => [issue.line, issue.field]), [[0, 'possibleOwners'], [0, 'possibleOwners']]);
    assert.deepEqual(result.valid.map((row) => row.line), [1]);
  });

  test('at most 8 issues for one row', () => {
    const result = checkTable([{ line: 0, input: { name: 'a', ip: '10.213.0.50/24', possibleOwners: Array.from({ length: 20 }, (_, i) => `x${i}`) } }], CONTEXT);
    assert.equal(result.issues.length, 8);
  });

  test('linear: 10,000 rows against 10,000 existing resources in well under a second', () => {
    const existing = Array.from({ length: 10_000 }, (_, i) => spec(`old-${i}`, `10.1.${i >> 8}.${i & 255}`));
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ line: i + 2, input: { name: `new-${i}`, ip: `10.2.${i >> 8}.${(i & 255) + 0}/16` } }));
    const started = performance.now();
    const result = checkTable(rows, { nodes: ['n1'], existing });
    assert.equal(result.valid.length, 10_000 - 1, '10.2.0.0 is the network address of its /16');
    assert.ok(performance.now() - started < 2_000, `took ${performance.now() - started} ms`);
  });
});

describe('groups in a table', () => {
  test('a group has at most 32 members, counting the cluster; its members name the same apart-from groups', () => {
    const existing = [spec('in1', '10.213.1.1', { group: 'gw', apartFrom: ['db'] })];
    const header = 'name,ip,group,apart-from';
    const ok = read(`${header}\nin2,10.213.1.2/24,gw,db\nalone,10.213.1.3/24,,\n`, 'csv', { nodes: ['n1'], existing });
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.valid.map((row) => [row.spec.name, row.spec.group, row.spec.apartFrom]), [['in2', 'gw', ['db']], ['alone', undefined, undefined]]);
    const differs = read(`${header}\nin2,10.213.1.2/24,gw,\nx1,10.213.1.4/24,new,a b\nx2,10.213.1.5/24,new,a\n`, 'csv', { nodes: ['n1'], existing });
    assert.deepEqual(lines(differs.issues), [
      '2: apart-from: the members of group "gw" name the same apart-from groups (its members in the cluster: "db")',
      '4: apart-from: the members of group "new" name the same apart-from groups (line 3: "a b")',
    ]);
    const full = Array.from({ length: 32 }, (_, i) => spec(`m${i}`, `10.213.2.${i + 1}`, { group: 'big' }));
    const over = read(`${header}\nm32,10.213.3.1/24,big,\n`, 'csv', { nodes: ['n1'], existing: full });
    assert.deepEqual(lines(over.issues), ['2: group: group "big" has 32 members already, the most a group has']);
    assert.deepEqual(lines(read(`${header}\nbad,10.213.3.2/24,g w,\n`, 'csv').issues), [`2: group: group "g w" may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit`]);
  });

  for (const format of ['csv', 'json'] as const) {
    test(`${format}: a group and its apart-from list round-trip`, () => {
      const grouped = [spec('in1', '10.213.1.1', { group: 'gw', apartFrom: ['edge', 'dmz'] }), spec('in2', '10.213.1.2', { group: 'gw', apartFrom: ['edge', 'dmz'] }), spec('solo', '10.213.1.3')];
      const text = formatTable(grouped, format);
      const back = read(text, format);
      assert.deepEqual(back.issues, []);
      assert.deepEqual(back.valid.map((row) => row.spec), grouped);
      assert.equal(formatTable(back.valid.map((row) => row.spec), format), text);
    });
  }
});

describe('export, and the round trip', () => {
  test('CSV: the header without prefix, sorted by name, lists with spaces, windows as HH-HH, times in UTC', () => {
    const text = formatCsvTable(VARIED);
    assert.equal(text.split('\n')[0], 'name,ip,owners,preferred,failback,interfaces,enabled,announce-form,defend,announce-count,announce-interval-ms,announce-refresh-sec,maintenance-until,checks,check-interval-ms,check-timeout-ms,fall,rise,retries,ban-for-sec,failover-threshold,group,apart-from');
    assert.deepEqual(text.trimEnd().split('\n').slice(1), [
      'Cache.2,192.168.7.1/32,,,never,,true,reply,never,,,,2026-12-04T15:00:00.123Z,,,,,,,,,,',
      'db,10.213.0.51/22,n1 n2,n2 n1,immediate,n1=eth1 n2=lan0.10,true,request,always,,,,,,,,,,3,90,5/1h,,',
      'far,172.16.0.9/31,,,00-23,,true,request,always,,,3600,9000000000000000,,,,,,,,,,',
      'mail-1,10.213.0.52/24,,,22-06,,false,both,once,4,250,,,,,,,,0,,2/90m,,',
      'web,10.213.0.50/24,,,never,,true,request,always,,,,,,,,,,,,,,',
    ]);
    assert.equal(formatCsvTable([]), 'name,ip,owners,preferred,failback,interfaces,enabled,announce-form,defend,announce-count,announce-interval-ms,announce-refresh-sec,maintenance-until,checks,check-interval-ms,check-timeout-ms,fall,rise,retries,ban-for-sec,failover-threshold,group,apart-from\n');
  });

  test('JSON: one object per line, fields in one order whatever the input order', () => {
    const shuffled = { defendPolicy: 'always', enabled: true, name: 'web', ip: '10.213.0.50', prefix: 24, interfaces: {}, failback: { mode: 'never' }, preferredOwners: [], possibleOwners: [], announceForm: 'request' } as ResourceSpec;
    assert.equal(formatJsonTable([shuffled]), `[\n  ${JSON.stringify(VARIED[0])}\n]\n`);
    assert.equal(formatJsonTable([]), '[]\n');
  });

  for (const format of ['csv', 'json'] as const) {
    test(`${format}: every field round-trips unchanged, and exporting again gives the same text`, () => {
      const text = formatTable(VARIED, format);
      const back = read(text, format);
      assert.deepEqual(back.issues, []);
      assert.deepEqual(back.valid.map((row) => row.spec), [...VARIED].sort(byName));
      assert.equal(formatTable(back.valid.map((row) => row.spec), format), text);
    });

    test(`${format}: 10,000 generated resources round-trip unchanged`, () => {
      const nodes = ['n1', 'n2', 'n3'];
      const specs = Array.from({ length: 10_000 }, (_, i) => spec(`imp-${String(i).padStart(5, '0')}`, `10.215.${(i + 1) >> 8}.${(i + 1) & 255}`, {
        prefix: 18,
        preferredOwners: [nodes[i % 3]!],
        failback: i % 2 === 0 ? { mode: 'immediate' } : { mode: 'window', startHour: i % 24, endHour: (i + 5) % 24 },
        interfaces: i % 5 === 0 ? { n1: 'lan0', n2: 'lan0', n3: 'lan0' } : {},
        enabled: i % 7 !== 0,
        ...(i % 11 === 0 ? { announceCount: 1 + (i % 10), announceIntervalMs: 10 + i } : {}),
      }));
      const text = formatTable(specs, format);
      const back = read(text, format, { nodes, existing: [] });
      assert.deepEqual(back.issues, []);
      assert.deepEqual(back.valid.map((row) => row.spec), specs);
    });
  }
});

describe('the CLI side: file format, batches, progress', () => {
  test('format from the file name', () => {
    assert.equal(formatOfFileName('x.CSV'), 'csv');
    assert.equal(formatOfFileName('/tmp/a.json'), 'json');
    assert.equal(formatOfFileName('a.txt'), null);
  });

  test('batches fit one API message', () => {
    const specs = Array.from({ length: 10_000 }, (_, i) => spec(`imp-${i}`, `10.215.${i >> 8}.${i & 255}`, { possibleOwners: ['n1', 'n2', 'n3'], interfaces: { n1: 'lan0', n2: 'lan0', n3: 'lan0' } }));
    const batches = importBatches(specs);
    assert.deepEqual(batches.flat(), specs);
    for (const batch of batches) assert.ok(JSON.stringify({ id: 'c123456', type: 'resource.import', rows: batch, skipInvalid: false }).length < MAX_CLIENT_MESSAGE_BYTES);
    assert.ok(batches.length < 100, `${batches.length} batches`);
  });

  test('the progress line: a bar on a terminal, counts, rate and ETA; plain lines elsewhere, not too often', () => {
    assert.equal(progressText({ label: 'created', done: 4_200, total: 10_000, elapsedMs: 2_000 }, true), 'created   [##########--------------]  4,200/10,000  2,100/s  ETA 2.8 s');
    assert.equal(progressText({ label: 'created', done: 10_000, total: 10_000, elapsedMs: 4_000 }, false), 'created   10,000/10,000  2,500/s  in 4.0 s');
    let clock = 0;
    const written: string[] = [];
    const plain = new ProgressReporter({ tty: false, write: (text) => written.push(text) }, 'created', 100, () => clock);
    for (clock = 0; clock < 5_000; clock += 100) plain.update(clock / 50);
    plain.end(100);
    assert.equal(written.length, 4, written.join(''));
    assert.ok(written.every((line) => line.endsWith('\n') && !line.includes('\r')));
    const redrawn: string[] = [];
    const tty = new ProgressReporter({ tty: true, write: (text) => redrawn.push(text) }, 'created', 100, () => clock);
    tty.update(1);
    tty.end(100);
    assert.ok(redrawn[0]!.startsWith('\r') && redrawn.at(-1) === '\n');
  });

  test('the settle count follows the stream incrementally: states before or after the create, disabled ones settle offline', async () => {
    const tracker = new SettleTracker();
    tracker.state('a', 'online-pending');
    tracker.add(spec('a', '10.213.0.50'));
    tracker.add(spec('b', '10.213.0.51', { enabled: false }));
    tracker.add(spec('a', '10.213.0.50'));
    assert.deepEqual([tracker.created, tracker.settled, tracker.online], [2, 0, 0]);
    tracker.state('b', 'offline');
    tracker.state('other', 'online');
    assert.deepEqual([tracker.settled, tracker.online], [1, 0]);
    const waited = tracker.until(() => tracker.settled === 2, () => false);
    tracker.state('a', 'online');
    await waited;
    assert.deepEqual([tracker.settled, tracker.online, tracker.failed], [2, 1, 0]);
    tracker.state('a', 'failed');
    assert.deepEqual([tracker.settled, tracker.online, tracker.failed], [2, 0, 1]);
    tracker.state('a', undefined);
    assert.deepEqual([tracker.settled, tracker.online, tracker.failed], [1, 0, 0]);
  });

  test('CSV columns of validator fields', () => {
    assert.equal(csvColumnOf('possibleOwners'), 'owners');
    assert.equal(csvColumnOf('failback.startHour'), 'failback');
    assert.equal(csvColumnOf('interfaces.n1'), 'interfaces');
    assert.equal(csvColumnOf('prefered'), 'prefered');
  });

  test('parseTable never throws on random bytes', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const alphabet = 'name,ip\n\r"\'[]{}:,=0123456789./ abn\ufeff';
    for (let round = 0; round < 2_000; round++) {
      const text = Array.from({ length: next() % 80 }, () => alphabet[next() % alphabet.length]).join('');
      for (const format of ['csv', 'json'] as const) {
        const result = parseTable(text, format);
        assert.ok(Array.isArray(result.rows) && Array.isArray(result.issues));
      }
    }
  });
});
