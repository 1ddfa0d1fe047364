// What a cluster command's outcome means to a script (exit code) and to a person (lines on stderr).
// Pure: the runner (../cluster.ts) does the printing.
import { ApiRequestError } from '../../../../preload/contract/request-tracker';
import { TokenFileError } from '../../../api/token';
import type { ActionResult } from '../../../../preload/contract/protocol';
import { optionForField, type AgentAddress, type ClusterOperation } from '../../cluster-args';
import { EXIT } from '../../exit-codes';

/** Where it went wrong: reading local files, reaching the agent, or the agent's answer to the command. */
export type Phase = 'token' | 'ca' | 'connect' | 'command';

export interface Failure {
  exitCode: number;
  /** Each printed as "ipfo: <line>" on stderr. */
  lines: string[];
  /** With --json, printed on stdout as { error: ... } so that a script reads the same facts. */
  json: { code: string; message: string; issues?: Array<{ field: string; option: string; message: string }> };
}

/** Exit code of a command the agent carried out: a resource brought online that ended failed is not a success. */
export function actionExitCode(op: ClusterOperation, result: ActionResult): number {
  if (op.kind !== 'resource-add' && op.kind !== 'online') return EXIT.ok;
  const status = result.resource?.status;
  if (status?.state !== 'failed') return EXIT.ok;
  return status.failure?.kind === 'conflict' ? EXIT.conflict : EXIT.runtime;
}

function where(agent: AgentAddress): string {
  if (agent.socketPath !== undefined && agent.socketPath !== null) return agent.socketPath;
  return `${agent.host.includes(':') ? `[${agent.host}]` : agent.host}:${agent.port}`;
}

/** The client wraps the socket's error as "cannot reach the agent at <url>: <reason>"; the reason is what helps. */
function unreachableReason(error: ApiRequestError): string {
  const cause = error.cause;
  const text = cause instanceof Error && cause.message !== '' ? cause.message : error.message.replace(/^cannot reach the agent at \S+: /, '');
  // OpenSSL's messages run over several lines and end in a source location; one line is enough here.
  return (text.split('\n')[0] ?? '').trim().replace(/:$/, '');
}

function fromAgent(error: ApiRequestError, agent: AgentAddress, phase: Phase, editing: boolean): Failure {
  const json = { code: error.code, message: error.message };
  if (phase === 'connect') {
    switch (error.code) {
      case 'unavailable':
      case 'timeout':
      case 'closed': {
        const line = `cannot reach the agent at ${where(agent)} (${unreachableReason(error)}): is \`ipfo agent\` running?`;
        return { exitCode: EXIT.environment, lines: [line], json: { code: 'unavailable', message: line } };
      }
      case 'auth-failed': {
        if (agent.credentialFile) {
          const line = `the agent at ${where(agent)} does not accept the credential in ${agent.credentialFile} (a removed or rotated user, a mistyped credential, or not the agent); nothing secret was sent`;
          return { exitCode: EXIT.environment, lines: [line], json: { code: 'auth-failed', message: line } };
        }
        // The client checks the agent's proof first (handshake.ts): a wrong token, or something else on that port.
        const line = /could not prove/.test(error.message)
          ? `the agent at ${where(agent)} could not prove it holds the token in ${agent.tokenFile}: wrong token (use the --token-file of that agent), or another program on that address; nothing secret was sent`
          : `the agent at ${where(agent)} refused the token in ${agent.tokenFile}: wrong token (use the --token-file of that agent)`;
        return { exitCode: EXIT.environment, lines: [line], json: { code: 'auth-failed', message: line } };
      }
      case 'unauthenticated': {
        const line = `the agent at ${where(agent)} refused the login: ${error.message}`;
        return { exitCode: EXIT.environment, lines: [line], json: { code: 'auth-failed', message: line } };
      }
      default:
        return { exitCode: EXIT.runtime, lines: [error.message], json };
    }
  }
  switch (error.code) {
    case 'invalid':
    case 'bad-request':
    case 'bad-json':
    case 'unknown-type':
    case 'not-found': {
      const issues = error.issues.map((issue) => ({ field: issue.field, option: optionForField(issue.field, editing), message: issue.message }));
      const lines = issues.length === 0 ? [error.message] : issues.map((issue) => (issue.option === '' ? issue.message : `${issue.option}: ${issue.message}`));
      return { exitCode: EXIT.badInput, lines, json: issues.length === 0 ? json : { ...json, issues } };
    }
    case 'conflict':
      return { exitCode: EXIT.conflict, lines: [error.message], json };
    case 'failed':
      // A move that aborted because another station answered for the address is a conflict (exit 3).
      return { exitCode: /conflict/i.test(error.message) ? EXIT.conflict : EXIT.runtime, lines: [error.message], json };
    case 'unavailable':
    case 'auth-failed':
    case 'unauthenticated':
    case 'forbidden': // the user's role may not do this: a permission, like a refused token
      return { exitCode: EXIT.environment, lines: [error.message], json };
    default:
      return { exitCode: EXIT.runtime, lines: [error.message], json };
  }
}

/** Any error of a cluster command, as exit code and lines. */
export function describeFailure(error: unknown, agent: AgentAddress, phase: Phase, op: ClusterOperation): Failure {
  if (error instanceof ApiRequestError) return fromAgent(error, agent, phase, op.kind === 'resource-edit');
  const message = error instanceof Error ? error.message : String(error);
  if (phase === 'token') {
    const cause = error instanceof TokenFileError ? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
    const hint =
      agent.credentialFile ? (cause === 'ENOENT' ? ': save the credential `ipfo user add` printed there' : '')
      : cause === 'ENOENT' ? ': the agent creates it when it starts; is `ipfo agent` running on this host, or is it another --token-file?'
      : cause === 'EACCES' || cause === 'EPERM' ? ': run as root, or as the user the agent runs as'
      : '';
    const line = `${message}${hint}`;
    return { exitCode: EXIT.environment, lines: [line], json: { code: 'token-file', message: line } };
  }
  if (phase === 'ca') {
    const line = `--ca ${agent.caFile ?? ''}: ${message}`;
    return { exitCode: EXIT.badInput, lines: [line], json: { code: 'ca-file', message: line } };
  }
  return { exitCode: EXIT.runtime, lines: [message], json: { code: 'internal', message } };
}
