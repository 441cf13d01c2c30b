import { Module } from '@nestjs/common';
import { UpstreamClient } from '@personai/service-kit';
import { ContentController } from './content.controller';
import { ContentService } from './content.service';

@Module({ controllers: [ContentController], providers: [ContentService, UpstreamClient] })
export class ContentModule {}
