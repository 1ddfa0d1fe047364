// What `ipfo hook` prints (pure): the hooks with their delivery state, a new hook, a test's outcome.
import type { HookDeliveryResult, HookInfo, HookRecord } from '../../preload/contract/hooks';
import type { RejectedStoreRecord } from '../../preload/contract/domain';
import { table } from './format';

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** The target in one line; a webhook's secret is never known here (only its file's path). */
export function describeHookTarget(hook: HookRecord): string {
  const target = hook.target;
  switch (target.kind) {
    case 'exec': return [`exec ${target.path}`, ...target.args.map((arg) => JSON.stringify(arg))].join(' ');
    case 'webhook': return `webhook ${target.url}${target.secretFile === null ? ' (unsigned)' : ` (signed, secret in ${target.secretFile})`}`;
    case 'syslog': return `syslog ${target.target}`;
  }
}

export function formatHooks(hooks: readonly HookInfo[], sender: string | null, rejected: readonly RejectedStoreRecord[]): string[] {
  const lines =
    hooks.length === 0
      ? ['no hooks (add one with `ipfo hook add NAME --on EVENTS --exec|--webhook|--syslog ...`)']
      : table(
          ['HOOK', 'EVENTS', 'TARGET', 'DELIVERED', 'LAST ATTEMPT', 'PENDING', 'LAST ERROR'],
          hooks.map(({ hook, state }) => [
            hook.name,
            hook.events.join(','),
            describeHookTarget(hook),
            state?.lastDeliveredSeq === null || state === null ? '-' : `seq ${state.lastDeliveredSeq}`,
            iso(state?.lastAttemptAt ?? null),
            String(state?.pending ?? 0),
            state?.lastError ?? '-',
          ]),
        );
  lines.push(`sender: ${sender ?? 'none (no live agent holds the sender key yet)'}`);
  for (const record of rejected) lines.push(`left out (never run): ${record.key}: ${record.reason}`);
  return lines;
}

export function formatHookTest(hook: string, node: string, delivery: HookDeliveryResult): string {
  return `hook ${hook}: test event ${delivery.ok ? 'delivered' : 'NOT delivered'} from ${node} in ${Math.round(delivery.durationMs)} ms: ${delivery.detail}`;
}
