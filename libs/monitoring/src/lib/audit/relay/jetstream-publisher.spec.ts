import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ackRefusal, AuditStreamPublisher, connectJetStream, loadNats } from './audit-stream-relay';

const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';

/**
 * The client URL of the nats-server `server` started with `-p -1 --ports_file_dir dir`: the port it bound itself,
 * read from the file it writes once it listens (a port picked beforehand can be taken by another process in between).
 */
async function boundUrl(server: ChildProcess, dir: string): Promise<string> {
  const file = join(dir, `nats-server_${server.pid}.ports`);
  for (let i = 0; i < 200; i += 1) {
    if (server.exitCode !== null) throw new Error(`nats-server exited with ${server.exitCode}`);
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { nats: string[] }).nats[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server wrote no ${file} in 10 s`);
}

/**
 * Stops `server` and returns once every one of its threads is stopped. kill() only queues SIGSTOP: one thread takes it
 * and stops the others when it next runs, so on a busy machine nats-server's network thread could still answer a
 * publish sent right after kill() returned.
 */
async function stopProcess(server: ChildProcess): Promise<void> {
  server.kill('SIGSTOP');
  const tasks = `/proc/${server.pid}/task`;
  // The state is the field after the command name, which is in parentheses and may itself hold them.
  const state = (task: string) => readFileSync(`${tasks}/${task}/stat`, 'utf8').split(') ').pop()?.charAt(0);
  for (let i = 0; i < 500; i += 1) {
    if (readdirSync(tasks).every((task) => state(task) === 'T')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nats-server (pid ${server.pid}) did not stop in 5 s`);
}

/** The JetStream publisher against a real nats-server of its own (the one the e2e suite and the bench use). */
describe('connectJetStream, on a real nats-server', () => {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let publisher: AuditStreamPublisher | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jetstream-publisher-'));
    server = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-sd', dir], { stdio: 'ignore' });
    url = await boundUrl(server, dir);
    const { transport } = loadNats();
    for (let i = 0; ; i += 1) {
      try {
        await (await transport.connect({ servers: url, timeout: 500 })).close();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  afterEach(async () => {
    await publisher?.close();
    publisher = undefined;
  });
  afterAll(() => {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** How many messages the stream holds. */
  async function stored(stream: string): Promise<number> {
    const { transport, jetstream } = loadNats();
    const nc = await transport.connect({ servers: url });
    try {
      return (await (await jetstream.jetstreamManager(nc)).streams.info(stream)).state.messages;
    } finally {
      await nc.close();
    }
  }

  it('resolves once the stream stored each message, and the stream keeps one message per id', async () => {
    publisher = await connectJetStream(url, 'PUB_SPEC', { ackTimeoutMs: 2000 });
    const body = (i: number) => Buffer.from(JSON.stringify({ i }));
    await Promise.all(Array.from({ length: 300 }, (_, i) => publisher?.publish(`audit.spec.e${i % 3}`, body(i), `id-${i}`)));
    await Promise.all(Array.from({ length: 100 }, (_, i) => publisher?.publish('audit.spec.e0', body(i), `id-${i}`))); // published again
    expect(await stored('PUB_SPEC')).toBe(300);
  });

  it('refuses a subject no stream takes (no responders), and fails what a stalled server never acknowledges, after the timeout', async () => {
    publisher = await connectJetStream(url, 'PUB_SPEC', { ackTimeoutMs: 400 }); // one stream per server takes audit.>
    const before = await stored('PUB_SPEC');
    await expect(publisher.publish('elsewhere.spec', Buffer.from('{}'), 'x-1')).rejects.toThrow(/no responders/);
    // The server stops answering but keeps the connection (a stalled broker, not a refused port).
    try {
      await stopProcess(server);
      const started = Date.now();
      await expect(publisher.publish('audit.spec.stalled', Buffer.from('{}'), 'stalled-1')).rejects.toThrow(/no acknowledgement from the stream in 400 ms/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    } finally {
      server.kill('SIGCONT');
    }
    // Published again once it answers (the relay's next round): stored once.
    await publisher.publish('audit.spec.stalled', Buffer.from('{}'), 'stalled-1');
    await publisher.publish('audit.spec.stalled', Buffer.from('{}'), 'stalled-1');
    expect(await stored('PUB_SPEC')).toBe(before + 1);
  });

  it('reads a refusal from an acknowledgement, an API error or a status', () => {
    expect(ackRefusal(Buffer.from('{"stream":"AUDIT","seq":3}'))).toBeUndefined();
    expect(ackRefusal(Buffer.from('{"stream":"AUDIT","seq":3,"duplicate":true}'))).toBeUndefined();
    expect(ackRefusal(Buffer.from('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}'))).toBe('503 maximum messages exceeded');
    expect(ackRefusal(new Uint8Array(), { hasError: true, code: 503, description: 'No Responders' })).toMatch(/^no responders/);
    expect(ackRefusal(Buffer.from('not json'))).toBe('an answer that is not an acknowledgement');
    expect(ackRefusal(Buffer.from('{}'))).toBe('an acknowledgement without a stream');
  });
});
