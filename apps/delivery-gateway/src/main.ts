import './tracing';
import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadDeliveryGatewayConfig } from './config/delivery-gateway.config';

runService(loadDeliveryGatewayConfig, (config) => AppModule.forConfig(config), useMonitoring);
