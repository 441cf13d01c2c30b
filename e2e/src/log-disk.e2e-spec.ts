import { AuditResponse } from '@personai/contracts';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, getText } from './support/http';
import { parseSamples } from './support/prom-text';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const root = process.getuid?.() === 0;
const REQUESTS = 35;
const GRACE_MS = 5000;

/** Fills the filesystem of `dir` to the last byte (a file written until ENOSPC); returns its path. */
function fill(dir: string): string {
  const path = join(dir, `filler-${Date.now()}`);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    for (let size = 2048; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, block, 0, size);
      } catch {
        // the next smaller size
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

async function dropped(base: string): Promise<number> {
  const samples = parseSamples((await getText(`${base}/metrics`)).text).filter((s) => s.name === 'log_lines_dropped_total' && s.labels['reason'] === 'no_space');
  return samples.reduce((n, s) => n + s.value, 0);
}

/** One request of the mix, answered or not within 5 s. */
async function attempt(base: string, i: number): Promise<{ status: number | 'no answer'; id?: string }> {
  const post = i % 3 === 0;
  try {
    const res = await fetch(post ? `${base}/content` : `${base}/${i % 3 === 1 ? 'health' : 'audit?limit=1'}`, {
      method: post ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json', 'x-request-id': `log-disk-${i}` },
      body: post ? JSON.stringify({ brief_id: `log-disk-${i}`, user_id: 'log_disk_user' }) : undefined,
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { id?: string };
    return { status: res.status, id: post ? body.id : undefined };
  } catch {
    return { status: 'no answer' };
  }
}

/**
 * A service started as `node main.js >> app.log 2>&1` (a VM, a systemd unit writing to a file) with app.log on
 * a 2 MiB tmpfs, which then fills up. Needs root (mount).
 */
(local && root ? describe : describe.skip)(`a full log disk never wedges a service (content-engine from dist/)${root ? '' : ': skipped, mounting a small tmpfs needs root'}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'personai-logdisk-'));
  const logfs = join(work, 'logfs');
  let logFd: number;
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    mkdirSync(logfs);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', logfs]);
    logFd = openSync(join(logfs, 'app.log'), 'a');
    service = new ServiceProcess(
      'content-engine',
      await freePort(),
      { LOG_LEVEL: 'info', DATA_DIR: join(work, 'data'), OPENAI_API_URL: `${fakeUpstreams}/openai`, SHUTDOWN_DRAIN_DELAY: '0s', SHUTDOWN_GRACE_PERIOD: `${GRACE_MS}ms` },
      { outputFd: logFd },
    );
    base = await service.start();
  });
  afterAll(async () => {
    await service?.kill('SIGKILL');
    if (logFd !== undefined) closeSync(logFd);
    execFileSync('umount', ['-l', logfs]);
    rmSync(work, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS}/${REQUESTS} requests with the disk full (audited ones 201 with their events), counts the dropped lines, and logs again once there is room`, async () => {
    const filler = fill(logfs);
    const answers = [];
    for (let i = 0; i < REQUESTS; i += 1) answers.push(await attempt(base, i));
    expect(answers.filter((a) => a.status === 'no answer')).toEqual([]);
    const posts = answers.filter((_, i) => i % 3 === 0);
    expect(posts.map((a) => a.status)).toEqual(posts.map(() => 201));
    const audit = (await getJson<AuditResponse>(`${base}/audit?event_type=content_generated&user_id=log_disk_user&limit=100`)).body;
    expect(audit.events.map((e) => e.resource_id)).toEqual(posts.map((a) => a.id));
    // Lines of the last requests may still be in the destination's buffer (written at 4 KiB or every 100 ms): the
    // count is read once every write of the full-disk period has failed, i.e. when it no longer changes (within 10 s;
    // a count still moving after that fails the equality below).
    let droppedWhileFull = await dropped(base);
    for (let stable = 0, reads = 0; stable < 3 && reads < 50; reads += 1) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await dropped(base);
      stable = now === droppedWhileFull ? stable + 1 : 0;
      droppedWhileFull = now;
    }
    console.log(`log disk full: ${answers.length} answered, ${droppedWhileFull} log line(s) dropped (no_space)`);
    expect(droppedWhileFull).toBeGreaterThan(0);

    rmSync(filler);
    const marker = 'log-disk-after-room';
    expect((await fetch(`${base}/health`, { headers: { 'x-request-id': marker } })).status).toBe(200);
    await fetch(`${base}/content`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': marker }, body: JSON.stringify({ brief_id: 'after', user_id: 'log_disk_user' }) });
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(join(logfs, 'app.log'), 'utf8')).toContain(`"request_id":"${marker}"`);
    expect(await dropped(base)).toBe(droppedWhileFull);
  });

  it('with the log disk full, SIGTERM ends the process within the grace period', async () => {
    fill(logfs);
    for (let i = 0; i < 6; i += 1) await attempt(base, 100 + i); // lines in the buffer for the final flush
    const started = performance.now();
    const exited = await Promise.race([service.kill('SIGTERM'), new Promise<'still running'>((r) => setTimeout(() => r('still running'), GRACE_MS + 3000))]);
    const ms = performance.now() - started;
    console.log(`SIGTERM with the log disk full: ${JSON.stringify(exited)} after ${ms.toFixed(0)} ms (grace period ${GRACE_MS} ms)`);
    expect([exited, ms < GRACE_MS]).toEqual([{ code: 0, signal: null }, true]);
  });
});
