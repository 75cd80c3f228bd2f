// Two clinics with realistic Brazilian data, appointments relative to today in São Paulo.
import { randomUUID } from 'node:crypto';
import type { AgentCallerClaims } from '@neonpro/contracts';
import { addDays, localDate } from '../../src/tools/clinic-time.js';
import type { SeedClinic } from './in-memory-clinic-data.js';

export function todaySp(): string {
  return localDate(new Date(), 'America/Sao_Paulo');
}

const at = (date: string, time: string): string => `${date}T${time}:00-03:00`;

const newIds = () => ({
  aurora: randomUUID(),
  beta: randomUUID(),
  lima: randomUUID(),
  costa: randomUUID(),
  maria: randomUUID(),
  joao: randomUUID(),
  ana: randomUUID(),
  anaPaula: randomUUID(),
  betaPatient: randomUUID(),
  betaPro: randomUUID(),
  apptTodayMaria: randomUUID(),
  apptTomorrowJoao: randomUUID(),
  apptTomorrowAna: randomUUID(),
  apptTomorrowCosta: randomUUID(),
});

export interface Fixture {
  aurora: SeedClinic;
  beta: SeedClinic;
  ids: ReturnType<typeof newIds>;
}

export function buildFixture(): Fixture {
  const today = todaySp();
  const tomorrow = addDays(today, 1);
  const ids = newIds();
  const aurora: SeedClinic = {
    id: ids.aurora,
    name: 'Clínica Aurora',
    timezone: 'America/Sao_Paulo',
    professionals: [
      { id: ids.lima, full_name: 'Dra. Fernanda Lima', specialty: 'Dermatologia' },
      { id: ids.costa, full_name: 'Dr. Ricardo Costa', specialty: 'Harmonização facial' },
    ],
    patients: [
      {
        id: ids.maria,
        full_name: 'Maria José Conceição',
        cpf: '529.982.247-25',
        birth_date: '1985-04-12',
        phone: '+55 11 98765-4321',
        email: 'maria.conceicao@example.com',
      },
      {
        id: ids.joao,
        full_name: 'João Pedro Ribeiro',
        cpf: '111.444.777-35',
        birth_date: '1990-09-30',
        phone: '+55 21 99876-5432',
        email: 'joao.ribeiro@example.com',
      },
      {
        id: ids.ana,
        full_name: 'Ana Beatriz Souza',
        cpf: '390.533.447-05',
        birth_date: '1978-01-05',
        phone: '+55 11 91234-5678',
        email: null,
      },
      { id: ids.anaPaula, full_name: 'Ana Paula Mendes', cpf: null, birth_date: null, phone: null, email: null },
    ],
    appointments: [
      {
        id: ids.apptTodayMaria,
        patient_id: ids.maria,
        professional_id: ids.lima,
        starts_at: at(today, '23:00'),
        ends_at: at(today, '23:30'),
        procedure: 'Limpeza de pele',
        status: 'confirmed',
      },
      {
        id: ids.apptTomorrowJoao,
        patient_id: ids.joao,
        professional_id: ids.lima,
        starts_at: at(tomorrow, '09:00'),
        ends_at: at(tomorrow, '09:30'),
        procedure: 'Botox',
        status: 'scheduled',
      },
      {
        id: ids.apptTomorrowAna,
        patient_id: ids.ana,
        professional_id: ids.lima,
        starts_at: at(tomorrow, '14:00'),
        ends_at: at(tomorrow, '15:00'),
        procedure: 'Peeling',
        status: 'scheduled',
      },
      {
        id: ids.apptTomorrowCosta,
        patient_id: ids.maria,
        professional_id: ids.costa,
        starts_at: at(tomorrow, '10:00'),
        ends_at: at(tomorrow, '10:30'),
        procedure: 'Preenchimento',
        status: 'cancelled',
      },
    ],
  };
  const beta: SeedClinic = {
    id: ids.beta,
    name: 'Clínica Beta',
    timezone: 'America/Sao_Paulo',
    professionals: [{ id: ids.betaPro, full_name: 'Dra. Helena Lima', specialty: 'Estética' }],
    patients: [
      {
        id: ids.betaPatient,
        full_name: 'Roberta Alves Secreta',
        cpf: '987.654.321-00',
        birth_date: null,
        phone: '+55 31 98888-7777',
        email: 'roberta@example.com',
      },
    ],
    appointments: [],
  };
  return { aurora, beta, ids };
}

export function claimsFor(clinicId: string, role: AgentCallerClaims['role'] = 'receptionist'): AgentCallerClaims {
  const sub = randomUUID();
  const email = `${role}.${sub.slice(0, 6)}@example.com`;
  return {
    sub,
    email,
    clinic_id: clinicId,
    role,
    raw: { sub, email, role: 'authenticated', app_metadata: { clinic_id: clinicId, role } },
  };
}
