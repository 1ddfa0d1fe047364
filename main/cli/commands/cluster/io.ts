// The outside world of a cluster command: where its lines go and when the operator asks it to stop.
// A test passes its own to capture the lines and to stop a follow without signals.
export interface ClusterIo {
  /** One line of the command's result. */
  stdout(line: string): void;
  /** One line for the operator (errors). */
  stderr(line: string): void;
  /** Resolves on SIGINT/SIGTERM (or when stdout is gone); dispose() stops listening. */
  untilStopped(): { stopped: Promise<void>; dispose(): void };
  /** Wall-clock ms, for "12s ago". */
  now(): number;
}

export function processIo(): ClusterIo {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    now: () => Date.now(),
    untilStopped() {
      let stop: () => void = () => undefined;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const signalled = (): void => stop();
      // `ipfo events --follow | head` closes the pipe: an EPIPE means nobody reads any more.
      const pipeGone = (): void => stop();
      process.on('SIGINT', signalled);
      process.on('SIGTERM', signalled);
      process.stdout.on('error', pipeGone);
      return {
        stopped,
        dispose() {
          process.off('SIGINT', signalled);
          process.off('SIGTERM', signalled);
          process.stdout.off('error', pipeGone);
        },
      };
    },
  };
}
