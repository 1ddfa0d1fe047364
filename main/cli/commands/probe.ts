// `ipfo probe <ip> --dev <if>`: is anybody using this address? Never registers anything. IPv4 asks
// with RFC 5227 probes, IPv6 with RFC 4862 duplicate address detection.
import type { AcdEvent } from '../../arp/acd';
import { AddressClaim, type AddressRegistrar } from '../../engine/address-claim';
import { openClaimSocket } from '../claim-socket';
import type { ProbeCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput } from '../output';
import { maxPrefixOf } from '../../../preload/contract/ip-address';

const probeNeverRegisters: AddressRegistrar = {
  add: () => {
    throw new Error('internal: a probe must not register an address');
  },
  remove: () => undefined,
};

export async function probeCommand(command: ProbeCommand): Promise<number> {
  const out = createOutput(command.json);
  const socket = openClaimSocket(command.dev, command.ip);
  const intervalMs = 200;
  const claim = new AddressClaim({
    ip: command.ip,
    prefix: maxPrefixOf(command.ip),
    socket,
    registrar: probeNeverRegisters,
    config: { mode: 'probe-only', probeCount: command.probeCount, probeIntervalMs: intervalMs, probeWaitMs: command.waitMs },
  });
  const outcome = await new Promise<AcdEvent>((resolve) => {
    claim.on('event', (event) => {
      if (event.type === 'trusted-answer' && command.json) out.record({ event: 'answer', ip: command.ip, mac: event.mac }, '');
      if (event.type === 'free' || event.type === 'used-by' || event.type === 'down') resolve(event);
    });
    claim.start();
  });
  socket.close();
  if (outcome.type === 'used-by') {
    for (const mac of outcome.macs) out.record({ event: 'in-use', ip: command.ip, mac }, `${command.ip} in use by ${mac}`);
    return EXIT.conflict;
  }
  out.record({ event: 'free', ip: command.ip }, 'free');
  return EXIT.ok;
}
