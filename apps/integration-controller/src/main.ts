import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { ConfigError, createServiceApp, listenService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadIntegrationControllerConfig } from './config/integration-controller.config';

async function main(): Promise<void> {
  const config = loadIntegrationControllerConfig();
  const app = await createServiceApp(AppModule.forConfig(config), config.LOG_LEVEL);
  useMonitoring(app);
  await listenService(app, config.SERVICE_NAME, config.PORT, config.HOST);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
