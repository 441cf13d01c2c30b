/** Raised by {@link withDeadline} when the work did not settle in time. */
export class DeadlineExceededError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Settles with `work`, or rejects with {@link DeadlineExceededError} after `timeoutMs`, whichever comes
 * first. The work itself is not cancelled (a hung socket read cannot be): callers that must not start it
 * twice keep hold of it and ask whether it is still running.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(timeoutMs)), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
