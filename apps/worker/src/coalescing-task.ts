// Runs an async task so that calls never overlap: a call while it runs asks for one more run
// after the current one (many notifications during a drain cost one extra drain, not many).

export interface CoalescingTask {
  /** Runs the task now, or once more after the current run; resolves when that run finished. */
  run(): Promise<void>;
  /** Resolves when no run is in progress (a run in flight finishes first). */
  idle(): Promise<void>;
  /** Refuses further runs; the run in flight, if any, finishes (await idle()). */
  stop(): void;
  readonly running: boolean;
}

/** `task` must not throw: it handles and reports its own errors. */
export function coalescingTask(task: () => Promise<void>): CoalescingTask {
  let current: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const loop = async () => {
    do {
      again = false;
      await task();
    } while (again && !stopped);
  };

  return {
    run() {
      if (stopped) return current ?? Promise.resolve();
      if (current) {
        again = true;
        return current;
      }
      current = loop().finally(() => {
        current = undefined;
      });
      return current;
    },
    async idle() {
      await current;
    },
    stop() {
      stopped = true;
    },
    get running() {
      return current !== undefined;
    },
  };
}
