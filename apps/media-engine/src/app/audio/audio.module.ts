import { Module } from '@nestjs/common';
import { UpstreamClient } from '@personai/service-kit';
import { AudioController } from './audio.controller';
import { AudioService } from './audio.service';

@Module({ controllers: [AudioController], providers: [AudioService, UpstreamClient] })
export class AudioModule {}
