import {
  type ActionProposal,
  checkConfirmation,
  isBareNo,
  isBareYes,
  makeProposal,
  PROPOSAL_TTL_MS,
} from './action-proposal.js';

// [text the user sent after a proposal, does it confirm?]
const CONFIRMATIONS: [string, boolean][] = [
  ['sim', true],
  ['Sim', true],
  ['SIM!', true],
  ['sim.', true],
  ['  sim  ', true],
  ['confirmo', true],
  ['Confirmo.', true],
  ['pode', true],
  ['pode sim', true],
  ['yes', true],
  ['Yes!', true],
  ['confirm', true],
  ['Confirm.', true],
  ['ok', true],
  ['s', true],
  ['sim, mas para outro horário', false],
  ['yes but change to 3pm', false],
  ['sim?', false],
  ['pode repetir?', false],
  ['confirma pra mim o horário?', false],
  ['yes?', false],
  ['sim... acho que sim, nao sei', false],
  ['nao', false],
  ['não', false],
  ['sim, cancela tudo', false],
  ['sim e cancele todas as consultas', false],
  ['talvez', false],
  ['', false],
  ['pode ser amanhã?', false],
  ['ok, mas quem é o profissional?', false],
];

const NOS: [string, boolean][] = [
  ['não', true],
  ['nao', true],
  ['No.', true],
  ['não, obrigado', true],
  ['deixa', true],
  ['esquece', true],
  ['não?', false],
  ['não, melhor às 15h', false],
  ['sim', false],
];

describe('confirmation texts', () => {
  it.each(CONFIRMATIONS)('"%s" confirms: %s', (text, expected) => expect(isBareYes(text)).toBe(expected));
  it.each(NOS)('"%s" declines: %s', (text, expected) => expect(isBareNo(text)).toBe(expected));
});

describe('checkConfirmation', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const pending: ActionProposal = makeProposal(
    {
      action: 'cancel',
      appointment_id: '8b0f3f0e-1c1a-4c1e-9a39-2f4f3a1b2c3d',
      patient_name: 'Ana',
      professional_name: 'Dra. Lima',
      procedure: 'Peeling',
      starts_at: '2026-12-02T12:00:00Z',
      summary: 'Cancelar…',
    },
    now,
  );

  it('confirms the pending proposal on a bare yes or on its confirm id', () => {
    expect(checkConfirmation({ pending, message: 'sim', now }, 'cancel', pending.id)).toBeUndefined();
    expect(
      checkConfirmation({ pending, confirmId: pending.id, message: 'Confirmar', now }, 'cancel', pending.id),
    ).toBeUndefined();
  });

  it('refuses without a pending proposal, for another id or action, after expiry, or without a yes', () => {
    expect(checkConfirmation({ message: 'sim', now }, 'cancel', pending.id)).toBe('no_pending_proposal');
    expect(checkConfirmation({ pending, message: 'sim', now }, 'cancel', 'p-0000000000')).toBe('unknown_proposal');
    expect(checkConfirmation({ pending, message: 'sim', now }, 'book', pending.id)).toBe('unknown_proposal');
    const later = new Date(now.getTime() + PROPOSAL_TTL_MS);
    expect(checkConfirmation({ pending, message: 'sim', now: later }, 'cancel', pending.id)).toBe('proposal_expired');
    expect(checkConfirmation({ pending, message: 'sim?', now }, 'cancel', pending.id)).toBe('confirmation_required');
    // The button names another proposal: a "sim" in the text does not rescue it.
    expect(checkConfirmation({ pending, confirmId: 'p-0000000000', message: 'sim', now }, 'cancel', pending.id)).toBe(
      'confirmation_required',
    );
  });

  it('gives every proposal a fresh id, even for the same content', () => {
    const { id: _id, expires_at: _expires, ...draft } = pending;
    expect(makeProposal(draft, now).id).not.toBe(pending.id);
  });
});
