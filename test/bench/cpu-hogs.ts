// Busy processes for the benchmark (BENCH_CPU_HOGS): each spins on a core for as long as the scenario
// runs, so the agents, etcd and the kernel's softirqs compete for the CPU as on a loaded host. They
// are this process's children and are ended by their own PIDs.
import { spawn, type ChildProcess } from 'node:child_process';

/** A fixed script, no input: an endless loop. */
const SPIN = 'for (;;) {}';

export class CpuHogs {
  private constructor(private readonly children: ChildProcess[]) {}

  static start(count: number): CpuHogs {
    const children = Array.from({ length: count }, () => spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }));
    return new CpuHogs(children);
  }

  get pids(): number[] {
    return this.children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
  }
}
