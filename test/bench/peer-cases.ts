// keepalived's counterpart of each of our unplanned/planned scenarios, shared by bench and
// bench:detect so that both compare the same things.
import type { AfterKill, KeepalivedScenario } from './keepalived';

export type PeerCaseName = 'planned' | 'killed' | 'killed-cut' | 'link-cut';

export const PEER_CASES: Readonly<Record<PeerCaseName, { scenario: KeepalivedScenario; afterKill?: AfterKill; note?: string }>> = {
  planned: { scenario: 'planned-move', note: 'SIGTERM of the master (priority-0 advert): keepalived\'s planned move' },
  killed: {
    scenario: 'owner-killed',
    afterKill: 'remove-address',
    note: 'SIGKILL of the master\'s keepalived with its address removed at the kill (a killed keepalived leaves the address up forever: no gap, two MACs); ours keeps answering until the address lifetime runs out',
  },
  'killed-cut': { scenario: 'owner-killed', afterKill: 'cut-link' },
  'link-cut': { scenario: 'link-cut' },
};
