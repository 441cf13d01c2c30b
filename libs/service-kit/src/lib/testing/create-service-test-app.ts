import { DynamicModule } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { useMonitoring } from '@personai/monitoring';
import { configureServiceApp, serviceAdapter } from '../bootstrap/service-app';

/** A service app configured exactly as in production (validation, errors, request ids, monitoring hooks), ready for `inject()`. */
export async function createServiceTestApp(module: DynamicModule): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(serviceAdapter(), { logger: false });
  configureServiceApp(app);
  useMonitoring(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
