// Removes lab namespaces (and the processes in them) left behind by test
// processes that died without cleaning up. Labs whose owner still runs are
// left alone, so this is safe to run at any time.
//
//   node build/test/lab/sweep.js [--dry-run] [--json]
import { parseArgs } from 'node:util';
import { sweepStaleLabs } from './cleanup';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const dryRun = values['dry-run'];
  const report = await sweepStaleLabs({ dryRun });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const verb = dryRun ? 'would remove' : 'removed';
    for (const lab of report.removed) {
      const label = lab.label === '' ? '' : ` (${lab.label})`;
      const outcome = lab.error === undefined ? verb : `FAILED to remove`;
      process.stdout.write(
        `${outcome} lab ${lab.id}${label} of dead pid ${lab.ownerPid}: namespaces [${lab.namespaces.join(', ')}], processes [${lab.killedPids.join(', ')}]${lab.error === undefined ? '' : `: ${lab.error}`}\n`,
      );
    }
    for (const id of report.live) process.stdout.write(`kept live lab ${id}\n`);
    if (report.releasedSubnets.length > 0) process.stdout.write(`released stale subnet claims: ${report.releasedSubnets.join(', ')}\n`);
    for (const ns of report.unknownNamespaces) process.stdout.write(`unknown lab-shaped namespace ${ns} (no record, not touched)\n`);
    if (report.removed.length === 0 && report.unknownNamespaces.length === 0) process.stdout.write('no stale labs\n');
  }
  if (report.removed.some((lab) => lab.error !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`lab sweep failed: ${String(error)}\n`);
  process.exitCode = 1;
});
