// How a command that watches until told otherwise ends: Ctrl-C, SIGTERM, its --for, or stop() (a
// failure). `ended` resolves once, with the signal handlers removed and the deadline cleared.
export interface StopSignal {
  stop: () => void;
  readonly ended: Promise<void>;
}

export function stopSignal(forMs: number | null): StopSignal {
  let stop: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    const deadline = forMs === null ? null : setTimeout(() => stop(), forMs);
    stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (deadline !== null) clearTimeout(deadline);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return { stop: () => stop(), ended };
}
