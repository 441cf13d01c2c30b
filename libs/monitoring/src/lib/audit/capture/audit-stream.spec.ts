import { Body, Controller, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString } from 'class-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@personai/contracts';
import { MonitoringModule } from '../../monitoring.module';
import { createTestApp } from '../../testing/create-test-app';
import { Audit } from './audit.decorator';

class NoteDto {
  @IsString() user_id!: string;
}

@Controller('notes')
class NotesController {
  @Post('login')
  @Audit('user_login', { action: 'login' })
  login(@Body() dto: NoteDto) {
    return { id: `login_${dto.user_id}`, user_id: dto.user_id };
  }

  @Post('brief')
  @Audit('brief_created', { action: 'create' })
  brief(@Body() dto: NoteDto) {
    return { id: `brief_${dto.user_id}`, user_id: dto.user_id };
  }
}

/** Reads `count` Server-Sent Events from `url`, then disconnects. */
async function readEvents(url: string, count: number, headers: Record<string, string> = {}): Promise<{ id: string; data: AuditEvent }[]> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: { id: string; data: AuditEvent }[] = [];
  let buffer = '';
  const deadline = setTimeout(() => controller.abort(), 5000);
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) events.push({ id, data: JSON.parse(data) as AuditEvent });
      }
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  return events;
}

describe('GET /audit/stream', () => {
  let dir: string;
  let app: NestFastifyApplication;
  let base: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'audit-stream-'));
    app = await createTestApp({ imports: [MonitoringModule.forRoot({ serviceName: 'stream-spec', version: '1.0.0', auditDatabase: join(dir, 'audit.db') })], controllers: [NotesController] });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, user: string) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: user }) });

  it('sends events as they are committed, filtered by event type', async () => {
    const received = readEvents(`${base}/audit/stream?event_type=brief_created`, 2);
    await new Promise((r) => setTimeout(r, 100));
    await post('/notes/login', 'a');
    await post('/notes/brief', 'b');
    await post('/notes/brief', 'c');
    const events = await received;
    expect(events.map((e) => [e.data.event_type, e.data.user_id])).toEqual([
      ['brief_created', 'b'],
      ['brief_created', 'c'],
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((e) => e.data.id));
    // The contract's trace_id is part of every streamed event (null: tracing is off in this process).
    expect(events.map((e) => e.data.trace_id)).toEqual([null, null]);
  });

  it('resumes after Last-Event-ID from the store, then goes on live', async () => {
    for (const user of ['u1', 'u2', 'u3']) await post('/notes/login', user);
    const stored = ((await (await fetch(`${base}/audit?event_type=user_login`)).json()) as { events: AuditEvent[] }).events;
    const received = readEvents(`${base}/audit/stream?event_type=user_login`, 3, { 'last-event-id': stored[0].id });
    await new Promise((r) => setTimeout(r, 100));
    await post('/notes/login', 'u4');
    expect((await received).map((e) => e.data.user_id)).toEqual(['u2', 'u3', 'u4']);
  });

  it('answers 400 to an unknown Last-Event-ID and records every read of the log', async () => {
    const res = await fetch(`${base}/audit/stream`, { headers: { 'last-event-id': 'no-such-event' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('Last-Event-ID');
    await fetch(`${base}/audit/verify`);
    const reads = ((await (await fetch(`${base}/audit?event_type=audit_accessed`)).json()) as { events: AuditEvent[] }).events;
    expect(reads.map((e) => e.action)).toEqual(['verify']);
  });
});
