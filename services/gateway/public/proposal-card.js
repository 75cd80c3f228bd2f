// A write proposal (booking, cancellation, rescheduling) as a card with Confirm and Cancel. The
// summary is the server's rendering of exactly what will be written, never the model's words.
(() => {
  const ACTIONS = { book: 'Agendamento', cancel: 'Cancelamento', reschedule: 'Remarcação' };

  /**
   * Appends the card to `list`; `onConfirm(proposalId)` / `onCancel()` run once, after which the
   * card's buttons are disabled. Returns a function that retires the card (a newer turn came).
   */
  function render(list, proposal, onConfirm, onCancel) {
    const li = document.createElement('li');
    li.className = 'proposal';
    li.dataset.proposalId = proposal.proposal_id;
    const title = document.createElement('strong');
    title.textContent = `${ACTIONS[proposal.action] || 'Alteração'} para confirmar`;
    const summary = document.createElement('p');
    summary.className = 'summary';
    summary.textContent = proposal.summary;
    const expires = document.createElement('small');
    expires.textContent = `válida até ${new Date(proposal.expires_at).toLocaleTimeString('pt-BR', { hour: '2-digit', minute: '2-digit' })}`;
    const confirm = document.createElement('button');
    confirm.type = 'button';
    confirm.className = 'confirm';
    confirm.textContent = 'Confirmar';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'cancel';
    cancel.textContent = 'Cancelar';
    const retire = (state) => {
      confirm.disabled = true;
      cancel.disabled = true;
      li.dataset.state = state;
    };
    confirm.addEventListener('click', () => {
      retire('confirmed');
      onConfirm(proposal.proposal_id);
    });
    cancel.addEventListener('click', () => {
      retire('cancelled');
      onCancel();
    });
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(confirm, cancel);
    li.append(title, summary, expires, actions);
    list.appendChild(li);
    li.scrollIntoView({ block: 'end' });
    return () => {
      if (!confirm.disabled) {
        retire('stale');
      }
    };
  }

  window.NeonProposalCard = { render };
})();
