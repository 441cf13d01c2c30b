import { HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';

const logger = new Logger('StateStore');

/** Runs a database operation of a request; a failure of the database answers 503 naming why (never a 500 with a stack). */
export async function unavailableOnFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HttpException) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    logger.error(`database operation failed: ${reason}`);
    throw new ServiceUnavailableException(`the service's database is unavailable (${reason}); nothing was changed`);
  }
}
