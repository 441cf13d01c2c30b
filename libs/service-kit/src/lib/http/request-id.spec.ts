import type { IncomingMessage } from 'node:http';
import { requestIdFor } from './request-id';

const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;

describe('requestIdFor', () => {
  it('keeps a sane caller id', () => expect(requestIdFor(req('brief-42.retry:1'))).toBe('brief-42.retry:1'));
  it('generates a UUID when absent', () => expect(requestIdFor(req())).toMatch(/^[0-9a-f-]{36}$/));
  it('replaces an id with unsafe characters', () => expect(requestIdFor(req('a b\u0007'))).toMatch(/^[0-9a-f-]{36}$/));
  it('replaces an over-long id', () => expect(requestIdFor(req('x'.repeat(129)))).toMatch(/^[0-9a-f-]{36}$/));
});
