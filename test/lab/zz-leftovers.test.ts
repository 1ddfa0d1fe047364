// Runs last (the lab files run in name order, one at a time): after the suite, nothing of any lab is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { LAB_NAMESPACE_PATTERN, LAB_STATE_DIR } from './lab-state';

test('no lab namespace, link, record or process is left after the suite', () => {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => LAB_NAMESPACE_PATTERN.test(name));
  assert.deepEqual(namespaces, [], 'lab namespaces still present');
  // Veth ends live in the lab namespaces; one in the host namespace would mean a half-built lab.
  const hostLinks = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => /\bipfo[0-9a-f]{6}/.test(l));
  assert.deepEqual(hostLinks, [], 'lab links in the host namespace');
  const records = existsSync(LAB_STATE_DIR) ? readdirSync(LAB_STATE_DIR).filter((f) => f.endsWith('.json')) : [];
  assert.deepEqual(records, [], 'lab records left in /run/ipfo-lab');
  // Every lab process runs under `ip netns exec`, which execs it with the namespace mounted; none may survive.
  const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /build\/test\/lab\/(tools|fixtures)\/|bin\/ipfo (claim|watch|probe)/.test(line));
  assert.deepEqual(processes, [], 'lab processes still running');
});
