import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EdgeModule } from '../edge/edge.module.js';
import { AppointmentsController } from './appointments.controller.js';
import { AuditController } from './audit.controller.js';
import { ConsentsController } from './consents.controller.js';
import { PatientsController } from './patients.controller.js';
import { ProfessionalsController } from './professionals.controller.js';
import { UserDb } from './user-db.service.js';
import { ClinicUsageController } from '../usage/clinic-usage.controller.js';

/** The clinic REST API (/v1 patients, consents, professionals, appointments, audit, clinic plan and usage) under RLS. */
@Module({
  imports: [AuthModule, EdgeModule],
  controllers: [
    PatientsController,
    ConsentsController,
    ProfessionalsController,
    AppointmentsController,
    AuditController,
    ClinicUsageController,
  ],
  providers: [UserDb],
  exports: [UserDb],
})
export class HealthcareModule {}
