import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['90d', 7_776_000_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '30', '1.5s', '-1s', '0s', '30 sec', 's'])('rejects %p', (text) => expect(parseDuration(text)).toBeUndefined());
});
