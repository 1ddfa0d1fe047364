// Bench helper, run inside a node's namespace: one authenticated connection to the local agent,
// kept open for the whole run, so a benchmark can time a command from the moment it is sent (not
// from a process start) and can add a thousand resources without a thousand connections.
//   node api-session-child.js <port> <token-file>
// stdin, one JSON object per line: {"id": 1, "type": "resource.move", "args": {"name": "web", "target": "n2"}}
// stdout: {"type":"ready"} once connected, then per command
//   {"type":"result","id":1,"ok":true,"result":...,"sentAtWallMs":..,"doneAtWallMs":..}
//   ({"ok":false,"code":..,"message":..} on failure). Commands run concurrently, as they arrive.
// Ends when stdin closes or the connection does.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { connectAgent, type AgentClient } from '../../main/api/client';
import type { CommandType } from '../../preload/contract/protocol';

const wallNow = (): number => performance.timeOrigin + performance.now();

function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function run(client: AgentClient, line: string): Promise<void> {
  let id: unknown = null;
  let sentAtWallMs = Number.NaN;
  try {
    const command = JSON.parse(line) as { id: unknown; type: CommandType; args?: unknown };
    id = command.id;
    sentAtWallMs = wallNow();
    // The command is checked by the agent, as any client's: a bad one comes back as its error.
    const result = await client.request(command.type, command.args ?? {});
    writeLine({ type: 'result', id, ok: true, result, sentAtWallMs, doneAtWallMs: wallNow() });
  } catch (error) {
    writeLine({ type: 'result', id, ok: false, code: (error as { code?: string }).code, message: (error as Error).message, sentAtWallMs, doneAtWallMs: wallNow() });
  }
}

async function main(): Promise<void> {
  const [port, tokenFile] = process.argv.slice(2);
  const client = await connectAgent({ host: '127.0.0.1', port: Number(port), credential: readFileSync(tokenFile!, 'utf8').trim(), client: 'bench', requestTimeoutMs: 120_000 });
  client.onClose((code, reason) => {
    writeLine({ type: 'closed', code, reason });
    process.exit(0);
  });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => void run(client, line));
  lines.on('close', () => void client.close().then(() => process.exit(0)));
  writeLine({ type: 'ready' });
}

main().catch((error: unknown) => {
  writeLine({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
