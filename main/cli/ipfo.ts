// Entry point of the `ipfo` command (bin/ipfo).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCommand, USAGE, type Command } from './args';
import { exitCodeFor, reasonFor } from './errors';
import { EXIT } from './exit-codes';
import { readInterface } from '../net/interfaces';

function version(): string {
  const pkg = JSON.parse(readFileSync(resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function execute(command: Command): Promise<number> {
  switch (command.kind) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    case 'version':
      process.stdout.write(`ipfo ${version()}\n`);
      return EXIT.ok;
    // Each command loads only what it needs: the etcd client and the API stack take a second to load.
    case 'probe':
      readInterface(command.dev); // an unknown interface is bad input (exit 2), checked before anything opens
      return (await import('./commands/probe.js')).probeCommand(command);
    case 'claim':
      readInterface(command.dev);
      return (await import('./commands/claim.js')).claimCommand(command);
    case 'watch':
      readInterface(command.dev);
      return (await import('./commands/watch.js')).watchCommand(command);
    case 'witness':
      return (await import('./commands/witness.js')).witnessCommand(command);
    case 'audit':
      return (await import('./commands/audit.js')).auditCommand(command);
    case 'agent':
      return (await import('./commands/agent.js')).agentCommand(command, version());
    case 'cluster':
      return (await import('./commands/cluster.js')).clusterCommand(command);
  }
}

export function run(argv: string[]): void {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    process.stderr.write(`ipfo: ${reasonFor(error)}\n`);
    process.exitCode = exitCodeFor(error);
    return;
  }
  execute(command).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ipfo: ${reasonFor(error)}\n`);
      process.exitCode = exitCodeFor(error);
    },
  );
}
