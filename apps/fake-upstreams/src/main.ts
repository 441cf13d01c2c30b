import 'reflect-metadata';
import { createServiceApp, listenService, ConfigError } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { useFaults } from './app/faults/use-faults';
import { loadFakeUpstreamsConfig } from './config/fake-upstreams.config';

async function main(): Promise<void> {
  const config = loadFakeUpstreamsConfig();
  const app = await createServiceApp(AppModule.forConfig(config), config.LOG_LEVEL);
  useFaults(app);
  await listenService(app, config.SERVICE_NAME, config.PORT, config.HOST);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
