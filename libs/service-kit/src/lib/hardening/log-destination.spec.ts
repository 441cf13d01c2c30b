import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogDestination } from './log-destination';

const line = (i: number) => `${JSON.stringify({ level: 30, msg: `line ${i}` })}\n`;
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('LogDestination', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-destination-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every line, buffered, in order', async () => {
    const fd = openSync(join(dir, 'app.log'), 'a');
    const destination = new LogDestination({ fd, minLength: 256, flushIntervalMs: 10 });
    for (let i = 0; i < 100; i += 1) destination.write(line(i));
    await settle();
    destination.close();
    closeSync(fd);
    expect(readFileSync(join(dir, 'app.log'), 'utf8')).toBe(Array.from({ length: 100 }, (_, i) => line(i)).join(''));
  });

  // /dev/full: every write fails with ENOSPC, as on a full disk.
  it('on a full disk drops and counts the lines, and never throws or emits', async () => {
    const fd = openSync('/dev/full', 'w');
    const destination = new LogDestination({ fd, minLength: 64, flushIntervalMs: 10, noticeIntervalMs: 3_600_000 });
    const seen: [string, number][] = [];
    destination.onDrop((reason, lines) => seen.push([reason, lines]));
    for (let i = 0; i < 50; i += 1) expect(destination.write(line(i))).toBe(true);
    await settle();
    expect(destination.dropped()).toEqual({ no_space: 50 });
    expect(seen.reduce((n, [, lines]) => n + lines, 0)).toBe(50);
    expect(new Set(seen.map(([reason]) => reason))).toEqual(new Set(['no_space']));
    closeSync(fd);
    destination.close();
  });

  it("the exit path's flush makes one bounded attempt on a full disk, dropping what it cannot write", () => {
    const fd = openSync('/dev/full', 'w');
    const destination = new LogDestination({ fd, minLength: 1_000_000, flushIntervalMs: 3_600_000, noticeIntervalMs: 3_600_000 });
    for (let i = 0; i < 20; i += 1) destination.write(line(i));
    const started = Date.now();
    destination.flushSync();
    expect([Date.now() - started < 1000, destination.dropped()]).toEqual([true, { no_space: 20 }]);
    closeSync(fd);
    destination.close();
  });

  it('says so on stderr at most once per notice interval, naming the error and the count', async () => {
    const fd = openSync('/dev/full', 'w');
    const noticeFd = openSync(join(dir, 'stderr.log'), 'a');
    const destination = new LogDestination({ fd, noticeFd, minLength: 1, flushIntervalMs: 3_600_000, noticeIntervalMs: 3_600_000, service: 'spec-service' });
    for (let i = 0; i < 5; i += 1) {
      destination.write(line(i));
      await settle();
    }
    closeSync(noticeFd);
    const notices = readFileSync(join(dir, 'stderr.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(notices).toEqual([{ level: 40, time: expect.any(Number), service: 'spec-service', context: 'LogDestination', msg: expect.stringMatching(/^dropped 1 log line\(s\) .*ENOSPC/) }]);
    expect(destination.dropped()).toEqual({ no_space: 5 });
    closeSync(fd);
    destination.close();
  });

  it('drops what does not fit its buffer while the destination is not keeping up', () => {
    const fd = openSync(join(dir, 'slow.log'), 'a');
    const destination = new LogDestination({ fd, minLength: 1_000_000, flushIntervalMs: 3_600_000, maxBufferBytes: 10 * line(0).length });
    for (let i = 0; i < 15; i += 1) destination.write(line(i));
    expect(destination.dropped()).toEqual({ buffer_full: 5 });
    destination.close();
    closeSync(fd);
    expect(readFileSync(join(dir, 'slow.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(10);
  });
});
