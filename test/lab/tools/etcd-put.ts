// Writes raw key/value pairs into an etcd, as anything with write access could (the lab's hostile
// store records): one put each, in order, with no lease and no checks.
//
//   node build/test/lab/tools/etcd-put.js <endpoint-url> <file: JSON array of [key, value]>
//
// Prints "done <count>" on stdout.
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';

async function main(): Promise<void> {
  const [url, file] = process.argv.slice(2);
  if (url === undefined || file === undefined) throw new Error('usage: etcd-put <endpoint-url> <file>');
  const pairs = JSON.parse(readFileSync(file, 'utf8')) as Array<[string, string]>;
  const client = new Etcd3({ hosts: [url] });
  try {
    for (const [key, value] of pairs) await client.put(key).value(value);
  } finally {
    client.close();
  }
  process.stdout.write(`done ${pairs.length}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`etcd-put: ${String(error)}\n`);
  process.exitCode = 1;
});
