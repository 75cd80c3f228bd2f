/**
 * Domain vocabularies shared by the database, the gateway and the agents: one declaration each.
 * They mirror the CHECK constraints on clinic_members.role and appointments.status.
 */

/** A clinic member's role. */
export const CLINIC_ROLES = ['admin', 'professional', 'receptionist'] as const;
export type ClinicRole = (typeof CLINIC_ROLES)[number];

/** An appointment's status. */
export const APPOINTMENT_STATUSES = ['scheduled', 'confirmed', 'completed', 'cancelled', 'no_show'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];
