import { write, writeSync } from 'node:fs';
import type { LogDropReason } from '@personai/contracts';

export interface LogDestinationOptions {
  /** Where lines go. @default 1 (stdout) */
  fd?: number;
  /** Buffered bytes that start a write at once. @default 4096 */
  minLength?: number;
  /** The longest a line waits in the buffer. @default 100 */
  flushIntervalMs?: number;
  /** Past this much buffered (the destination is not keeping up), new lines are dropped. @default 4 MiB */
  maxBufferBytes?: number;
  /** At most one notice of dropped lines on stderr per this period. @default 60000 */
  noticeIntervalMs?: number;
  /** Where the notice of dropped lines goes. @default 2 (stderr) */
  noticeFd?: number;
  /** The service, on the notice line. */
  service?: string;
}

/** How many lines `data` holds from `offset` on (a line cut by `offset` counts: its end was not written). */
function linesIn(data: Buffer, offset: number): number {
  let n = 0;
  for (let i = data.indexOf(10, offset); i !== -1; i = data.indexOf(10, i + 1)) n += 1;
  return n;
}

function reasonOf(err: NodeJS.ErrnoException): LogDropReason {
  return err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 'EFBIG' ? 'no_space' : 'write_error';
}

const RETRY_LATER = new Set(['EAGAIN', 'EBUSY', 'EINTR']);
/** On exit, how long a destination that answers EAGAIN (a full pipe) is waited for before the rest is dropped. */
const EXIT_FLUSH_BUDGET_MS = 200;

/**
 * pino's destination for a service's log (stdout): lines collect in a buffer written out once it holds
 * `minLength` bytes or every `flushIntervalMs`, whichever comes first (one write for dozens of lines on a busy
 * service), as pino's own asynchronous destination does. Unlike it, a destination that cannot take a write
 * (a full disk, an I/O error) never stops the service: the lines of that write are dropped and counted by
 * reason (`onDrop`, `log_lines_dropped_total`), a notice goes to stderr at most once a minute (when stderr
 * still takes it), and the next write tries again, so logging resumes on its own once there is room. Nothing
 * here throws or emits an 'error' event; the exit path's final flush (`flushSync`) makes one attempt, bounded
 * in time, and never waits for space.
 */
export class LogDestination {
  private readonly fd: number;
  private readonly minLength: number;
  private readonly maxBufferBytes: number;
  private readonly noticeIntervalMs: number;
  private readonly noticeFd: number;
  private readonly service?: string;
  private chunks: string[] = [];
  private bytes = 0;
  private writing = false;
  private readonly timer: NodeJS.Timeout;
  private readonly totals = new Map<LogDropReason, number>();
  private readonly listeners: ((reason: LogDropReason, lines: number) => void)[] = [];
  private unnoticed = 0;
  private lastError = '';
  private lastNoticeAt = 0;

  constructor(options: LogDestinationOptions = {}) {
    this.fd = options.fd ?? 1;
    this.minLength = options.minLength ?? 4096;
    this.maxBufferBytes = options.maxBufferBytes ?? 4 * 2 ** 20;
    this.noticeIntervalMs = options.noticeIntervalMs ?? 60_000;
    this.noticeFd = options.noticeFd ?? 2;
    this.service = options.service;
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 100);
    this.timer.unref();
  }

  /** pino's call: buffers the line (a full buffer drops it: `buffer_full`). Never throws. */
  write(line: string): boolean {
    const size = Buffer.byteLength(line);
    if (this.bytes + size > this.maxBufferBytes) {
      this.drop('buffer_full', linesIn(Buffer.from(line), 0) || 1, 'the log destination is not keeping up');
      return true;
    }
    this.chunks.push(line);
    this.bytes += size;
    if (this.bytes >= this.minLength) this.flush();
    return true;
  }

  /** Starts writing what is buffered, unless a write is already under way (it starts the next one). */
  flush(): void {
    if (this.writing || this.bytes === 0) return;
    const data = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.bytes = 0;
    this.writing = true;
    this.writeOut(data, 0);
  }

  /**
   * The exit path's flush: what is buffered, written synchronously in one attempt (a destination answering
   * EAGAIN is retried for at most EXIT_FLUSH_BUDGET_MS); what cannot be written is dropped and counted.
   */
  flushSync(): void {
    if (this.bytes === 0) return;
    const data = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.bytes = 0;
    const deadline = Date.now() + EXIT_FLUSH_BUDGET_MS;
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(this.fd, data, offset, data.length - offset);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (RETRY_LATER.has(e.code ?? '') && Date.now() < deadline) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        this.drop(reasonOf(e), linesIn(data, offset), e.message);
        return;
      }
    }
  }

  /** Called with every drop (the service's metrics listen); `dropped()` has the totals so far. */
  onDrop(listener: (reason: LogDropReason, lines: number) => void): void {
    this.listeners.push(listener);
  }

  /** Lines dropped so far, by reason. */
  dropped(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }

  /** Stops the periodic flush (tests; a service's destination lives as long as the process). */
  close(): void {
    clearInterval(this.timer);
    this.flushSync();
  }

  private writeOut(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      if (err) {
        if (RETRY_LATER.has(err.code ?? '')) {
          setTimeout(() => this.writeOut(data, offset), 10).unref();
          return;
        }
        this.writing = false;
        this.drop(reasonOf(err), linesIn(data, offset), err.message);
        return;
      }
      if (offset + written < data.length) {
        this.writeOut(data, offset + written);
        return;
      }
      this.writing = false;
      if (this.bytes >= this.minLength) this.flush();
    });
  }

  private drop(reason: LogDropReason, lines: number, why: string): void {
    this.totals.set(reason, (this.totals.get(reason) ?? 0) + lines);
    for (const listener of this.listeners) {
      try {
        listener(reason, lines);
      } catch {
        // a listener's failure is not the log's
      }
    }
    this.unnoticed += lines;
    this.lastError = why;
    this.notice();
  }

  /** At most once per notice interval, on stderr, if stderr takes it (it may be the same full disk). */
  private notice(): void {
    const now = Date.now();
    if (now - this.lastNoticeAt < this.noticeIntervalMs) return;
    this.lastNoticeAt = now;
    const line = JSON.stringify({ level: 40, time: now, ...(this.service ? { service: this.service } : {}), context: 'LogDestination', msg: `dropped ${this.unnoticed} log line(s) the log destination could not take (${this.lastError}); log_lines_dropped_total counts them` });
    try {
      writeSync(this.noticeFd, `${line}\n`);
      this.unnoticed = 0;
    } catch {
      // stderr cannot take it either: the counter still does
    }
  }
}
