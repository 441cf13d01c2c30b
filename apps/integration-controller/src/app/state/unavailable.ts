import { HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';

const logger = new Logger('StateStore');

/**
 * Runs a database operation of a request; a failure of the database answers 503 naming why (never a 500 with a stack).
 * A chained promise rather than an async function: one step on the request's path instead of an async function's
 * entry, await and resolution, on every read a request makes.
 */
export function unavailableOnFailure<T>(work: () => Promise<T>): Promise<T> {
  let running: Promise<T>;
  try {
    running = work();
  } catch (err) {
    running = Promise.reject(err);
  }
  return running.catch(unavailable);
}

function unavailable(err: unknown): never {
  if (err instanceof HttpException) throw err;
  const reason = err instanceof Error ? err.message : String(err);
  logger.error(`database operation failed: ${reason}`);
  throw new ServiceUnavailableException(`the service's database is unavailable (${reason}); nothing was changed`);
}
