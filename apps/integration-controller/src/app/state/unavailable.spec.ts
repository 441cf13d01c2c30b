import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { unavailableOnFailure } from './unavailable';

describe('unavailableOnFailure', () => {
  it('answers what the operation answers', async () => {
    await expect(unavailableOnFailure(async () => [1, 2])).resolves.toEqual([1, 2]);
  });

  it('turns a rejected operation into a 503 naming the reason', async () => {
    const refused = unavailableOnFailure(async () => {
      throw new Error('SQLITE_BUSY: database is locked');
    });
    await expect(refused).rejects.toBeInstanceOf(ServiceUnavailableException);
    await expect(refused).rejects.toThrow("the service's database is unavailable (SQLITE_BUSY: database is locked); nothing was changed");
  });

  it('turns an operation that throws before it returns a promise into the same 503, not a throw', async () => {
    const work = (): Promise<never> => {
      throw new Error('the pool is closed');
    };
    const answer = unavailableOnFailure(work);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).rejects.toThrow("the service's database is unavailable (the pool is closed); nothing was changed");
  });

  it('lets an HTTP answer of the operation through as it is', async () => {
    const notFound = new NotFoundException('no integration with id i1');
    await expect(unavailableOnFailure(() => Promise.reject(notFound))).rejects.toBe(notFound);
  });
});
