import 'reflect-metadata';
import { exitOnConfigError } from '@neonpro/config';
import { runService } from '@neonpro/observability';
import { startAgent } from './app.js';

void runService('ai-agent', () => startAgent().catch(exitOnConfigError));
