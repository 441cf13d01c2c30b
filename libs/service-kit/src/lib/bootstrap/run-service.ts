import { DynamicModule, INestApplication } from '@nestjs/common';
import { ConfigError, ServiceEnv } from '../config/service-env';
import { installGracefulShutdown } from './graceful-shutdown';
import { createServiceApp, listenService } from './service-app';

/**
 * A service's whole main(): validate the configuration (a bad value stops it with a message naming the
 * variable), create the app, let the app bind its hooks (e.g. `useMonitoring`), install the graceful
 * shutdown (SIGTERM/SIGINT), listen.
 */
export function runService<C extends ServiceEnv>(loadConfig: () => C, moduleFor: (config: C) => DynamicModule, ...bind: ((app: INestApplication) => void)[]): void {
  const main = async (): Promise<void> => {
    const config = loadConfig();
    const app = await createServiceApp(moduleFor(config), config);
    bind.forEach((hook) => hook(app));
    installGracefulShutdown(app, {
      drainDelayMs: config.shutdownDrainDelayMs,
      gracePeriodMs: config.shutdownGracePeriodMs,
    });
    await listenService(app, config.SERVICE_NAME, config.PORT, config.HOST);
  };
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
