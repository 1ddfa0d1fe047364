// Child process for the kill -9 test (file-store.test.ts): writes to a file store as fast as it
// can, forever, and prints every acknowledged write ("R <n>" = resource r<n> stored, "A <n>" =
// audit entry w<n> stored) so the parent knows what must survive a SIGKILL.
// Usage: node file-store-writer.js <dir> <auditRetention>
import type { ResourceSpec } from '../../main/cluster/model';
import { FileStore } from '../../main/store/file-store';

function resourceSpec(index: number): ResourceSpec {
  const ip = `10.213.${100 + ((index >> 8) & 127)}.${index & 255}`;
  const spec: ResourceSpec = { name: `r${index}`, ip, prefix: 16, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {}, enabled: true, announceForm: 'request', defendPolicy: 'once' };
  return spec;
}

async function main(): Promise<void> {
  const [dir, retention] = process.argv.slice(2);
  if (dir === undefined || retention === undefined) throw new Error('usage: file-store-writer <dir> <auditRetention>');
  const store = await FileStore.open({ dir, auditRetention: Number(retention) });
  // Continue both sequences where the previous (killed) writer left them.
  let nextResource = (await store.resources()).length;
  const lastAudit = (await store.audit({ limit: 1 }))[0];
  let nextAudit = lastAudit === undefined ? 0 : lastAudit.seq;
  process.stdout.write(`ready ${nextResource} ${nextAudit}\n`);
  for (;;) {
    await store.putResource(resourceSpec(nextResource));
    process.stdout.write(`R ${nextResource}\n`);
    nextResource += 1;
    await store.appendAudit({ at: Date.now(), actor: 'writer', action: `w${nextAudit}`, target: null, outcome: 'ok', detail: null, handoffMs: null });
    process.stdout.write(`A ${nextAudit}\n`);
    nextAudit += 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
