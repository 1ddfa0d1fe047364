// npm run demo (Linux, root): a three-node cluster in a lab LAN — etcd, an `ipfo agent` per node, a
// client streaming to the addresses — with a few resources online. It prints how to drive it and
// keeps running until Ctrl-C, then deletes everything it made.
import { createLab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import { startUdpEcho, startUdpStream } from '../lab/traffic';
import { ipfoArgv } from '../lab/ipfo';
import { startConsoleForward, type ConsoleForward } from '../lab/console-forward';
import { readFileSync } from 'node:fs';

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run demo needs root (it builds network namespaces); run it as root');
    process.exitCode = 4;
    return;
  }
  console.log('building the lab: a bridge, nodes n1 n2 n3, clients c1 c2 (etcd runs on c2), a rogue r1 ...');
  const lab = await createLab({ nodes: 3, clients: 2, rogue: true, name: 'demo' });
  let cluster: LabCluster | null = null;
  let forward: ConsoleForward | null = null;
  const stop = async (): Promise<void> => {
    console.log('\nstopping: the console forward, agents, etcd and the lab go away');
    await forward?.close();
    await cluster?.destroy();
    await lab.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    for (const node of lab.nodes) await startUdpEcho(lab, node);
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    const resources = [
      { name: 'web', ip: `${lab.vip(1)}/24`, preferredOwners: ['n1', 'n2'], failback: { mode: 'immediate' as const } },
      { name: 'db', ip: `${lab.vip(2)}/24`, preferredOwners: ['n2', 'n3'] },
      { name: 'mail', ip: `${lab.vip(3)}/24`, possibleOwners: ['n1', 'n3'] },
    ];
    for (const spec of resources) {
      const added = await cluster.api('n1', 'resource.add', { spec });
      console.log(`  resource ${spec.name} ${spec.ip}: ${added.ok ? (added.result as { detail: string }).detail : `failed: ${String(added.message)}`}`);
    }
    const stream = startUdpStream(lab, 'c1', lab.vip(1), { intervalMs: 10, pacing: 'sleep', durationMs: 24 * 3600_000 });
    await stream.started;
    const n1 = lab.host('n1');
    // The console of n1's agent, on this machine's loopback (the agents serve it in their namespaces).
    let consoleLine: string;
    try {
      forward = await startConsoleForward(lab, 'n1', 7790);
      consoleLine = `Web console of n1, from this machine: ${forward.url(readFileSync(cluster.tokenFile('n1'), 'utf8').trim())}`;
    } catch (error) {
      consoleLine = `No web console on this machine: ${error instanceof Error ? error.message : String(error)}`;
    }
    const cli = (args: string) => `ip netns exec ${n1.ns} ${ipfoArgv([]).join(' ')} ${args} --agent 127.0.0.1:7790 --token-file ${cluster!.tokenFile('n1')}`;
    console.log(`
The cluster runs (etcd ${cluster.store}).

${consoleLine}

In another terminal, as root:

  ${cli('status')}
  ${cli('move web n3')}
  ${cli('node pause n1')}      # drain: every address of n1 moves
  ${cli('node resume n1')}     # web fails back to n1 (failback immediate)
  ${cli('events --follow')}

Try a conflict: the rogue claims web's address, n1 defends it:
  ip netns exec ${lab.host('r1').ns} ${process.execPath} ${__dirname}/../lab/tools/arp-send.js --dev lan0 --form announcement --ip ${lab.vip(1)}

The client c1 sends a datagram to web (${lab.vip(1)}) every 10 ms; each change of answering node prints here.
Ctrl-C stops the demo and deletes everything it made.
`);
    let seen = 0;
    setInterval(() => {
      for (const change of stream.owners.slice(seen)) console.log(`  client c1: ${lab.vip(1)} now answered by ${change.host}`);
      seen = stream.owners.length;
    }, 200);
  } catch (error) {
    console.error(error);
    await forward?.close();
    await cluster?.destroy();
    await lab.destroy();
    process.exitCode = 1;
  }
}

void main();
