import { Module } from '@nestjs/common';
import { UpstreamClient } from '@personai/service-kit';
import { IntegrationsModule } from '../integrations/integrations.module';
import { BriefPipelineService } from './brief-pipeline.service';
import { BriefsController } from './briefs.controller';
import { BriefsService } from './briefs.service';

@Module({
  imports: [IntegrationsModule],
  controllers: [BriefsController],
  providers: [BriefsService, BriefPipelineService, UpstreamClient],
})
export class BriefsModule {}
