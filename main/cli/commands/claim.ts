// `ipfo claim <ip>/<prefix> --dev <if>`: probe, register, announce, then hold and defend the
// address until SIGINT/SIGTERM, then deregister. One JSON line per event with --json.
import type { AcdEvent } from '../../arp/acd';
import { AddressClaim, type AddressRegistrar } from '../../engine/address-claim';
import { ArpSocket } from '../../net/pcap';
import { deregisterOrThrow, registerOrThrow } from '../../net/registrar';
import type { ClaimCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';
import { performance } from 'node:perf_hooks';

export const linuxRegistrar: AddressRegistrar = {
  add: (ifname, ip, prefix) => registerOrThrow([{ ifname, ip, prefix }]),
  remove: (ifname, ip, prefix) => deregisterOrThrow([{ ifname, ip, prefix }]),
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
    case 'down': return `released ${cidr} (${event.reason}${event.detail ? `: ${event.detail}` : ''})`;
  }
}

export async function claimCommand(command: ClaimCommand): Promise<number> {
  const out = createOutput(command.json);
  const cidr = `${command.ip}/${command.prefix}`;
  const socket = ArpSocket.open(command.dev);
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

  const exitCode = await new Promise<number>((resolve) => {
    const release = (): void => claim.stop();
    process.on('SIGINT', release);
    process.on('SIGTERM', release);
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
  socket.close();
  return exitCode;
}
