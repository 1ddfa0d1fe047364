// `ipfo claim <ip>/<prefix> --dev <if>`: probe, register, announce, then hold and defend the
// address until SIGINT/SIGTERM, then deregister. One JSON line per event with --json. An IPv6 address
// goes the same way over neighbour discovery: duplicate address detection, registration without the
// kernel's own DAD, unsolicited advertisements, defence (arp/acd.ts).
//
// Interface faults: set down, deleted (or re-created), renamed or given another MAC, the interface can no
// longer carry this claim as it was made: the claim says so (stderr; an `interface-lost` JSON event),
// deregisters and exits 1 — never leaving the address behind. A lost carrier alone (a pulled cable) is
// reported and ridden out: the address stays, as a cable may come back.
import type { AcdEvent } from '../../arp/acd';
import { AddressClaim, type AddressRegistrar } from '../../engine/address-claim';
import { openClaimSocket } from '../claim-socket';
import { deregisterOrThrow, registerOrThrow, removeOwnedAnywhere, listOwned } from '../../net/registrar';
import { readInterfaceState } from '../../net/interfaces';
import { describeInterfaceFault, interfaceFault, type InterfaceFault } from '../../net/interface-fault';
import type { ClaimCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';
import { performance } from 'node:perf_hooks';

/** How often the claim looks at its interface (renames and MAC changes raise no socket error). */
const INTERFACE_CHECK_MS = 250;

export const linuxRegistrar: AddressRegistrar = {
  add: (ifname, ip, prefix) => registerOrThrow([{ ifname, ip, prefix }]),
  remove: (ifname, ip, prefix) => {
    try {
      deregisterOrThrow([{ ifname, ip, prefix }]);
    } catch (error) {
      // The interface is gone under this name (renamed, deleted): find our address by its mark instead.
      removeOwnedAnywhere([{ ip, prefix }]);
      if (listOwned().some((a) => a.ip === ip && a.prefix === prefix)) throw error;
    }
  },
};

function describe(event: AcdEvent, cidr: string): string {
  switch (event.type) {
    case 'probing': return `probing ${cidr} (${event.n}/${event.count})`;
    case 'trusted-answer': return `expected answer from ${event.mac} (trusted handoff)`;
    case 'used-by': return `conflict: ${cidr} is in use by ${event.macs.join(', ')}; nothing registered`;
    case 'free': return `free`;
    case 'ready': return `holding ${cidr}`;
    case 'announced': return `announced ${cidr} (${event.n}/${event.count})`;
    case 'conflict': return `conflict: ${event.mac} claims ${cidr} (${event.frameKind}); ${event.action}`;
    case 'defended': return `defended ${cidr} against ${event.mac}`;
    case 'reannounced': return `announced ${cidr} again`;
    case 'down': return `released ${cidr} (${event.reason}${event.detail ? `: ${event.detail}` : ''})`;
  }
}

export async function claimCommand(command: ClaimCommand): Promise<number> {
  const out = createOutput(command.json);
  const cidr = `${command.ip}/${command.prefix}`;
  const socket = openClaimSocket(command.dev, command.ip);
  const claim = new AddressClaim({
    ip: command.ip,
    prefix: command.prefix,
    socket,
    registrar: linuxRegistrar,
    config: {
      skipProbe: !command.probe,
      probeCount: command.probeCount,
      probeWaitMs: command.waitMs,
      trustedMac: command.trustedMac,
      announceCount: command.announceCount,
      announceForm: command.announceForm,
      defendPolicy: command.defend,
    },
  });
  claim.on('warning', (text) => out.note(`warning: ${text}`));

  let interfaceTimer: NodeJS.Timeout | null = null;
  const exitCode = await new Promise<number>((resolve) => {
    const release = (): void => claim.stop();
    process.on('SIGINT', release);
    process.on('SIGTERM', release);
    let lost = false;
    const loseInterface = (fault: InterfaceFault): void => {
      if (lost) return;
      lost = true;
      const text = `${describeInterfaceFault(command.dev, fault)}: releasing ${cidr}`;
      if (command.json) out.record({ event: 'interface-lost', ip: command.ip, prefix: command.prefix, dev: command.dev, time: isoTime(Date.now()), fault: fault.kind, detail: text }, text);
      process.stderr.write(`ipfo claim: ${text}\n`);
      claim.linkDown();
    };
    socket.on('lost', (error) => loseInterface({ kind: 'capture-lost', detail: error.message }));
    let carrierLost = false;
    interfaceTimer = setInterval(() => {
      const fault = interfaceFault(socket.iface, readInterfaceState(command.dev));
      if (fault?.kind === 'no-carrier') {
        if (!carrierLost) process.stderr.write(`ipfo claim: ${describeInterfaceFault(command.dev, fault)}: still holding ${cidr}\n`);
        carrierLost = true;
      } else if (fault !== null) {
        loseInterface(fault);
      } else if (carrierLost) {
        carrierLost = false;
        process.stderr.write(`ipfo claim: interface ${command.dev} has its carrier again\n`);
      }
    }, INTERFACE_CHECK_MS);
    claim.on('event', (event) => {
      const wall = performance.timeOrigin + event.at;
      const { type, at: _eventTime, ...fields } = event;
      out.record({ event: type, ip: command.ip, prefix: command.prefix, dev: command.dev, time: isoTime(wall), ...fields }, describe(event, cidr));
      if (event.type === 'used-by') resolve(EXIT.conflict);
      if (event.type === 'down') resolve(event.reason === 'released' ? EXIT.ok : event.reason === 'conflict' ? EXIT.conflict : EXIT.runtime);
      if (event.type === 'used-by' || event.type === 'down') {
        process.off('SIGINT', release);
        process.off('SIGTERM', release);
      }
    });
    claim.start();
  });
  if (interfaceTimer !== null) clearInterval(interfaceTimer);
  socket.close();
  return exitCode;
}
