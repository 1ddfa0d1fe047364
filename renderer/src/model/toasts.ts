// Toasts about a resource say where it was when the command answered; the live table may already
// show more (a move, a failover). A toast must not contradict it, so it is closed once its resource
// is elsewhere, in another state, or gone. Pure.
import type { ResourceView } from '../../../preload/contract/domain';
import type { Tone } from './move-flow';

export interface Toast {
  id: number;
  tone: Tone;
  text: string;
  /** The resource the text describes, as the text describes it; null when it speaks of no resource. */
  about: { name: string; owner: string | null; state: string } | null;
}

/** What a command's result says about its resource, for `Toast.about`. */
export function toastSubject(resource: ResourceView | null): Toast['about'] {
  return resource === null ? null : { name: resource.name, owner: resource.status.owner, state: resource.status.state };
}

/**
 * The toasts the live resources still agree with (the same array when all do, so React skips a render).
 * `live` has what the page knows of the toasts' resources: a record, null once gone; a name it has
 * not heard of yet keeps its toast.
 */
export function toastsStillTrue(toasts: readonly Toast[], live: ReadonlyMap<string, ResourceView | null>): readonly Toast[] {
  const kept = toasts.filter(({ about }) => {
    if (about === null) return true;
    const record = live.get(about.name);
    if (record === undefined) return true;
    return record !== null && record.status.owner === about.owner && record.status.state === about.state;
  });
  return kept.length === toasts.length ? toasts : kept;
}
