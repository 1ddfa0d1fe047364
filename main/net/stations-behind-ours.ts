// Linux makes the first IPv4 address of a subnet on an interface that subnet's primary: the source
// address the host picks for everything it sends there, and the src of the subnet's route. When the
// administrator's own (station) address is removed — a DHCP renewal, a mistake, the primary-address
// fault of the interface-faults lab — one of our virtual addresses is promoted in its place
// (promote_secondaries), and the station address, added back, comes after it as a secondary. The node's
// own traffic then leaves from a virtual address: its connection to etcd, opened meanwhile, dies as
// soon as that address moves to another node (the next moves waited for the store 10-20 s in the
// lab). This finds such subnets in a listing; LocalAddresses.putStationsFirst re-registers ours
// behind the station address. IPv4 only (IPv6 picks sources by other rules). Pure.
import { sameSubnet } from '../arp/addresses';
import type { InterfaceAddress } from '../host/address-types';

/** IFA_F_SECONDARY: not the first address of its subnet on its interface. */
export const IFA_F_SECONDARY = 0x01;

export interface StationBehindOurs {
  ifname: string;
  /** The administrator's address, listed as a secondary behind one of ours. */
  station: InterfaceAddress;
  /** Our addresses in that subnet on that interface (one of them the primary), in listing order. */
  ours: InterfaceAddress[];
}

const isIpv4 = (address: InterfaceAddress): boolean => !address.ip.includes(':');
const isSecondary = (address: InterfaceAddress): boolean => (address.flags & IFA_F_SECONDARY) !== 0;

/** The kernel's rule for "same subnet": same interface, same prefix length, same network. */
function sameKernelSubnet(a: InterfaceAddress, b: InterfaceAddress): boolean {
  return a.ifindex === b.ifindex && a.prefix === b.prefix && sameSubnet(a.ip, b.ip, a.prefix);
}

/** Every subnet of an interface whose primary is one of our addresses while a station address is in it. One entry per subnet. */
export function stationsBehindOurs(addresses: readonly InterfaceAddress[]): StationBehindOurs[] {
  const found: StationBehindOurs[] = [];
  for (const station of addresses) {
    if (station.owned || station.ifname === null || !isIpv4(station) || !isSecondary(station)) continue;
    if (found.some((entry) => sameKernelSubnet(entry.station, station))) continue;
    const subnet = addresses.filter((a) => a.owned && isIpv4(a) && sameKernelSubnet(a, station));
    if (subnet.some((a) => !isSecondary(a))) found.push({ ifname: station.ifname, station, ours: subnet });
  }
  return found;
}
