import type { Queryable } from '../queryable.js';
import { AppointmentsRepository } from './appointments.repository.js';
import { AuditRepository } from './audit.repository.js';
import { ChatRepository } from './chat.repository.js';
import { ClinicMembersRepository } from './clinic-members.repository.js';
import { ClinicsRepository } from './clinics.repository.js';
import { ConsentsRepository } from './consents.repository.js';
import { TxContext } from './context.js';
import { PatientsRepository } from './patients.repository.js';
import { PlansRepository } from './plans.repository.js';
import { ProfessionalsRepository } from './professionals.repository.js';
import { UsageRepository } from './usage.repository.js';

export * from './appointments.repository.js';
export * from './audit.repository.js';
export * from './chat.repository.js';
export * from './clinic-members.repository.js';
export * from './clinics.repository.js';
export * from './consents.repository.js';
export * from './patients.repository.js';
export * from './plans.repository.js';
export * from './professionals.repository.js';
export * from './usage.repository.js';

export interface Repositories {
  patients: PatientsRepository;
  professionals: ProfessionalsRepository;
  appointments: AppointmentsRepository;
  consents: ConsentsRepository;
  audit: AuditRepository;
  members: ClinicMembersRepository;
  clinics: ClinicsRepository;
  chat: ChatRepository;
  plans: PlansRepository;
  usage: UsageRepository;
}

/** One set of repositories bound to one transaction. */
export function createRepositories(db: Queryable): Repositories {
  const ctx = new TxContext(db);
  const audit = new AuditRepository(ctx);
  return {
    patients: new PatientsRepository(ctx, audit),
    professionals: new ProfessionalsRepository(ctx),
    appointments: new AppointmentsRepository(ctx, audit),
    consents: new ConsentsRepository(ctx, audit),
    audit,
    members: new ClinicMembersRepository(ctx),
    clinics: new ClinicsRepository(ctx),
    chat: new ChatRepository(ctx),
    plans: new PlansRepository(ctx),
    usage: new UsageRepository(ctx),
  };
}
