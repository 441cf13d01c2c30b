import { Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Brief } from './brief.interface';
import { BriefPipelineService } from './brief-pipeline.service';
import { BriefQueueService } from './brief-queue.service';
import { CreateBriefDto } from './create-brief.dto';

/** Accepts briefs, queues their pipeline and answers their progress. */
@Injectable()
export class BriefsService {
  private readonly briefs = new Map<string, Brief>();

  constructor(
    private readonly queue: BriefQueueService,
    private readonly pipeline: BriefPipelineService,
  ) {}

  create(dto: CreateBriefDto, requestId: string): { id: string; status: 'queued'; user_id: string } {
    const now = new Date().toISOString();
    const brief: Brief = {
      id: `brief_${randomUUID()}`,
      user_id: dto.user_id,
      date: dto.date ?? now.slice(0, 10),
      channels: dto.channels,
      status: 'queued',
      steps: this.pipeline.plannedSteps(dto.user_id, dto.channels),
      created_at: now,
      updated_at: now,
      request_id: requestId,
    };
    this.briefs.set(brief.id, brief);
    this.queue.enqueue(() => this.pipeline.run(brief));
    return { id: brief.id, status: 'queued', user_id: brief.user_id };
  }

  get(id: string): Brief {
    const brief = this.briefs.get(id);
    if (!brief) throw new NotFoundException(`no brief with id ${id}`);
    return brief;
  }
}
