// A long-lived agent API connection inside a node's namespace (api-session-child), for benchmarks:
// commands are timed from the moment they leave, and many can run at once over one connection.
import { join } from 'node:path';
import type { LabCluster } from '../lab/cluster';
import { JsonLines, type JsonRecord } from '../lab/json-lines';
import { DEFAULT_API_PORT, type CommandArgs, type CommandType } from '../../preload/contract/protocol';

const CHILD = join(__dirname, 'api-session-child.js');

export interface SessionResult {
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
  /** Wall ms at which the command was handed to the client library (sent). */
  sentAtWallMs: number;
  doneAtWallMs: number;
}

export class ApiSession {
  private nextId = 1;

  private constructor(readonly node: string, private readonly lines: JsonLines) {}

  static async open(cluster: LabCluster, node: string): Promise<ApiSession> {
    const child = cluster.lab.spawn(node, [process.execPath, CHILD, String(DEFAULT_API_PORT), cluster.tokenFile(node)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = new JsonLines(child);
    const first = await lines.waitFor((r) => r.type === 'ready' || r.type === 'failed', 15_000, `api session on ${node}`);
    if (first.type === 'failed') throw new Error(`api session on ${node}: ${String(first.message)}`);
    return new ApiSession(node, lines);
  }

  /** One agent command by its protocol name (e.g. 'resource.move', 'node.pause', 'snapshot'). */
  async call<T extends CommandType>(type: T, args: CommandArgs[T]): Promise<SessionResult> {
    const id = this.nextId++;
    const ended = this.lines.exited.then((exit): never => {
      throw new Error(`api session on ${this.node} ended (${String(exit.code ?? exit.signal)}) during ${type}: ${this.lines.stderr}`);
    });
    const answer = this.lines.waitFor((r) => r.type === 'result' && r.id === id, 180_000, `${type} on ${this.node}`);
    this.lines.child.stdin!.write(`${JSON.stringify({ id, type, args })}\n`);
    const record: JsonRecord = await Promise.race([answer, ended]);
    // Results are not needed twice: keep the record list from growing with a thousand adds.
    const at = this.lines.records.indexOf(record);
    if (at >= 0) this.lines.records.splice(at, 1);
    return record as unknown as SessionResult;
  }

  /** Like call(), but throws unless the agent answered ok. */
  async must<T extends CommandType>(type: T, args: CommandArgs[T]): Promise<SessionResult> {
    const result = await this.call(type, args);
    if (!result.ok) throw new Error(`${type}(${JSON.stringify(args)}) on ${this.node}: ${result.code ?? ''} ${result.message ?? ''}`);
    return result;
  }

  async close(): Promise<void> {
    this.lines.child.stdin?.end();
    await Promise.race([this.lines.exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (this.lines.child.exitCode === null && this.lines.child.signalCode === null) this.lines.child.kill('SIGKILL');
  }
}
