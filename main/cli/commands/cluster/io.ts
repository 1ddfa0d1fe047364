// The outside world of a cluster command: where its lines go and when the operator asks it to stop.
// A test passes its own to capture the lines and to stop a follow without signals.
import type { ProgressSink } from '../../progress';

export interface ClusterIo {
  /** One line of the command's result. */
  stdout(line: string): void;
  /** One line for the operator (errors). */
  stderr(line: string): void;
  /** Resolves on SIGINT/SIGTERM (or when stdout is gone); dispose() stops listening. */
  untilStopped(): { stopped: Promise<void>; dispose(): void };
  /** Wall-clock ms, for "12s ago". */
  now(): number;
  /** Where a long operation's progress goes (stderr); none: no progress shown. */
  progress?: ProgressSink;
  /** Writes a whole file's text to stdout (an export), no newline added. */
  stdoutText?(text: string): Promise<void>;
}

export function processIo(): ClusterIo {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    now: () => Date.now(),
    progress: { tty: process.stderr.isTTY === true, write: (text) => void process.stderr.write(text) },
    stdoutText: (text) => new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve()))),
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
