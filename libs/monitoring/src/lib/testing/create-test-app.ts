import { INestApplication, ModuleMetadata, ValidationPipe } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { useMonitoring } from '../use-monitoring';

/** A Fastify-based Nest app for specs, with monitoring hooks bound, ready for `inject()`. */
export async function createTestApp(metadata: ModuleMetadata): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  useMonitoring(app as INestApplication);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
