import { DynamicModule, Module } from '@nestjs/common';
import { httpDependency, ServiceKitModule } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../config/integration-controller.config';
import { AuthModule } from './auth/auth.module';
import { BriefsModule } from './briefs/briefs.module';
import { RedisHealthCheck } from './health/redis.health-check';
import { IntegrationsModule } from './integrations/integrations.module';
import { QueueHealthCheck } from './queue/queue.health-check';
import { QueueModule } from './queue/queue.module';
import { StateDatabaseHealthCheck } from './state/state-database.health-check';
import { StateModule } from './state/state.module';

/** DATABASE_URL names another database than the audit log's: it gets its own check. */
function separateStateDatabase(config: IntegrationControllerEnv): boolean {
  return !!config.DATABASE_URL && config.DATABASE_URL !== config.AUDIT_DATABASE_URL;
}

@Module({})
export class AppModule {
  static forConfig(config: IntegrationControllerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forService(config, {
          dependencies: [
            httpDependency('gmail_api', config.GMAIL_API_URL, config.GMAIL_API_TOKEN),
            httpDependency('slack_api', config.SLACK_API_URL, config.SLACK_API_TOKEN),
            httpDependency('quickbooks_api', config.QUICKBOOKS_API_URL, config.QUICKBOOKS_API_TOKEN),
            httpDependency('salesforce_api', config.SALESFORCE_API_URL, config.SALESFORCE_API_TOKEN),
          ],
          checks: [...(config.REDIS_URL ? [RedisHealthCheck] : []), QueueHealthCheck, ...(separateStateDatabase(config) ? [StateDatabaseHealthCheck] : [])],
        }),
        StateModule,
        QueueModule,
        AuthModule,
        IntegrationsModule,
        BriefsModule,
      ],
      providers: [...(config.REDIS_URL ? [RedisHealthCheck] : []), ...(separateStateDatabase(config) ? [StateDatabaseHealthCheck] : [])],
    };
  }
}
