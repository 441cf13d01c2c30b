import { RuntimeStatsService } from '@personai/monitoring';
import { loadIntegrationControllerConfig } from '../../config/integration-controller.config';
import { BriefQueueService } from './brief-queue.service';

describe('BriefQueueService', () => {
  it('runs at most BRIEF_CONCURRENCY jobs and reports waiting + running as queue_depth', async () => {
    const runtime = new RuntimeStatsService();
    const queue = new BriefQueueService(loadIntegrationControllerConfig({ BRIEF_CONCURRENCY: '2' }), runtime);
    const releases: (() => void)[] = [];
    let started = 0;
    for (let i = 0; i < 5; i += 1) {
      queue.enqueue(() => {
        started += 1;
        return new Promise<void>((resolve) => releases.push(resolve));
      });
    }
    expect(started).toBe(2);
    expect(runtime.queueDepth()).toBe(5);

    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(3);
    expect(runtime.queueDepth()).toBe(4);

    const idle = queue.whenIdle();
    while (releases.length) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await idle;
    expect(started).toBe(5);
    expect(runtime.queueDepth()).toBe(0);
  });

  it('keeps going after a job throws', async () => {
    const queue = new BriefQueueService(loadIntegrationControllerConfig({ BRIEF_CONCURRENCY: '1', LOG_LEVEL: 'error' }), new RuntimeStatsService());
    const ran: number[] = [];
    queue.enqueue(async () => {
      throw new Error('boom');
    });
    queue.enqueue(async () => {
      ran.push(2);
    });
    await queue.whenIdle();
    expect(ran).toEqual([2]);
    expect(queue.depth()).toBe(0);
  });
});
