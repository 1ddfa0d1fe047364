// What the elevated launcher (launch-agent.ts, run as root through the password prompt) tells the
// console on its stdout: one JSON line. The token travels this way, through the pipe sudo-prompt
// reads, never on a command line or in a file the user could be tricked into pointing elsewhere.
import { z } from 'zod';

const TokenSchema = z.string().regex(/^[0-9a-f]{64}$/);

export const LaunchReportSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('started'), token: TokenSchema, pid: z.number().int().positive(), logFile: z.string().max(1024) }),
  z.strictObject({ outcome: z.literal('already-running'), token: TokenSchema }),
  z.strictObject({ outcome: z.literal('failed'), detail: z.string().max(2048) }),
]);
export type LaunchReport = z.infer<typeof LaunchReportSchema>;

/** The result of asking for a local agent, as the console session uses it. */
export type LocalAgentLaunch =
  | { outcome: 'started' | 'already-running'; token: string; detail: string }
  | { outcome: 'cancelled' | 'unsupported' | 'failed'; detail: string };

/** The report in the launcher's output: its last non-empty line. */
export function parseLaunchReport(stdout: string): LaunchReport | null {
  const lines = stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const last = lines.at(-1);
  if (last === undefined) return null;
  try {
    const parsed = LaunchReportSchema.safeParse(JSON.parse(last));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** How the console presents a report. */
export function launchFromReport(report: LaunchReport | null): LocalAgentLaunch {
  if (report === null) return { outcome: 'failed', detail: 'the elevated launcher gave no report (see the agent log under /var/lib/ipfo)' };
  switch (report.outcome) {
    case 'started':
      return { outcome: 'started', token: report.token, detail: `started the local agent (pid ${report.pid}, log ${report.logFile})` };
    case 'already-running':
      return { outcome: 'already-running', token: report.token, detail: 'a local agent was already running' };
    case 'failed':
      return { outcome: 'failed', detail: report.detail };
  }
}
