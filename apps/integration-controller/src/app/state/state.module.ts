import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { isPostgresUrl } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { join } from 'node:path';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { PostgresStateStore } from './postgres-state.store';
import { SqliteStateStore } from './sqlite-state.store';
import { STATE_STORE, StateStore } from './state-store.interface';
import { TokenCipher } from './token-cipher';

/** The service's durable state: the store on DATABASE_URL (or the audit database) and the token cipher. */
@Global()
@Module({
  providers: [
    {
      provide: STATE_STORE,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntegrationControllerEnv): StateStore => {
        const url = config.stateDatabase;
        new Logger('StateModule').log(`integrations, briefs${config.REDIS_URL ? '' : ' and the job queue'} in ${isPostgresUrl(url) ? 'PostgreSQL' : `SQLite (${url})`}`);
        return isPostgresUrl(url) ? new PostgresStateStore(url, config.storeTimeoutMs) : new SqliteStateStore(url, config.storeTimeoutMs);
      },
    },
    {
      provide: TokenCipher,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IntegrationControllerEnv) => TokenCipher.fromConfig(config.TOKEN_ENCRYPTION_KEY, join(config.DATA_DIR, config.SERVICE_NAME, 'token.key')),
    },
  ],
  exports: [STATE_STORE, TokenCipher],
})
export class StateModule implements OnApplicationShutdown {
  constructor(@Inject(STATE_STORE) private readonly store: StateStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
