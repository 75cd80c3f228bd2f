import 'reflect-metadata';
import { exitOnConfigError } from '@neonpro/config';
import { runService } from '@neonpro/observability';
import { startGateway } from './app.js';

void runService('gateway', () => startGateway().catch(exitOnConfigError));
