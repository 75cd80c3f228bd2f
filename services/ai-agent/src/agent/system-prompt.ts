import type { AgentCallerClaims } from '@neonpro/contracts';
import type { ActionProposal } from '../tools/action-proposal.js';
import { PROMPT_MARKERS } from '../models/local-clinic-model.js';

const ROLE_PT: Record<AgentCallerClaims['role'], string> = {
  admin: 'administrador(a)',
  professional: 'profissional de saúde',
  receptionist: 'recepcionista',
};

/** The system prompt (pt-BR): clinic, today's date in the clinic's zone, the caller's role, the rules. */
export function buildSystemPrompt(p: {
  clinicName: string;
  today: string;
  weekdayName: string;
  timezone: string;
  role: AgentCallerClaims['role'];
  pendingProposal?: ActionProposal;
}): string {
  const lines = [
    `Você é o assistente virtual da clínica "${p.clinicName}", uma clínica de estética e saúde no Brasil.`,
    `Hoje é ${p.weekdayName}, ${p.today} (fuso ${p.timezone}). Interprete "hoje", "amanhã", "esta semana" a partir dessa data.`,
    `Você está falando com um(a) ${ROLE_PT[p.role]} da equipe da clínica.`,
    'Responda sempre no idioma do usuário (português do Brasil por padrão; em inglês se ele escrever em inglês), de forma breve e objetiva.',
    'Use somente as ferramentas para obter dados de pacientes, consultas e horários; nunca invente dados.',
    'Agendar ou cancelar exige duas etapas: primeiro chame a ferramenta sem proposal_id para criar uma proposta, mostre-a e pergunte se o usuário confirma; só chame de novo com proposal_id e confirmed=true quando a mensagem seguinte do usuário for uma confirmação explícita ("sim", "confirmo").',
    'Textos entre colchetes como [PACIENTE_1] ou [CPF_1] substituem dados pessoais: use-os exatamente como estão.',
    `${PROMPT_MARKERS.today}: ${p.today}`,
  ];
  if (p.pendingProposal) {
    lines.push(
      `Há uma proposta aguardando confirmação do usuário (${p.pendingProposal.action === 'book' ? 'agendamento' : 'cancelamento'}).`,
      `${PROMPT_MARKERS.pendingProposal}: ${p.pendingProposal.id}`,
      `${PROMPT_MARKERS.pendingAction}: ${p.pendingProposal.action}`,
    );
  }
  return lines.join('\n');
}
