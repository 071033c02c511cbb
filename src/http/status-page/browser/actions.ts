/**
 * The page's buttons, each confirmed with a dialog and sent same-origin (the server refuses a
 * state-changing request with Basic credentials from another site): Reset a tripped breaker
 * (POST v1/breakers/:account/reset), Cancel a running batch (POST v1/batches/:id/cancel), Undo
 * a finished deactivate run (POST v1/batches/:id/undo). The outcome goes to the notice line;
 * `after` refreshes the page.
 */
import { notice } from './dom.js';
import { errorText, post, problem } from './http.js';
import type { PageResetAnswer } from './overview.js';

interface Done {
  cancelled?: number;
  running?: number;
  reactivated?: number;
  still_held?: number;
}

async function reset(account: string): Promise<void> {
  const question =
    'Reset the breaker of ' +
    account +
    '? Its hold is released and the account comes back on if nothing else holds it.';
  if (!window.confirm(question)) return;
  const res = await post('v1/breakers/' + encodeURIComponent(account) + '/reset');
  if (!res.ok) {
    notice('Reset of ' + account + ' failed: ' + (await problem(res)), 'error');
    return;
  }
  const body = (await res.json()) as PageResetAnswer;
  const back = body.hold?.last && body.hold.before === 'active';
  notice(
    'Breaker of ' +
      account +
      ' reset' +
      (back
        ? ': the account is being switched back on.'
        : ': the account stays off (other holds, or off before).'),
    'ok',
  );
}

async function batchStep(step: 'cancel' | 'undo', id: string): Promise<void> {
  const question =
    step === 'cancel'
      ? 'Cancel batch ' + id + '? Jobs not started yet are removed; running ones finish.'
      : 'Undo batch ' +
        id +
        '? Its holds are released and the accounts it switched off come back on where nothing else holds them.';
  if (!window.confirm(question)) return;
  const res = await post('v1/batches/' + encodeURIComponent(id) + '/' + step);
  if (!res.ok) {
    notice(
      (step === 'cancel' ? 'Cancel' : 'Undo') + ' of ' + id + ' failed: ' + (await problem(res)),
      'error',
    );
    return;
  }
  const body = (await res.json()) as Done;
  notice(
    step === 'cancel'
      ? 'Batch ' +
          id +
          ' cancelled: ' +
          String(body.cancelled ?? 0) +
          ' removed, ' +
          String(body.running ?? 0) +
          ' running.'
      : 'Batch ' +
          id +
          ' undone: ' +
          String(body.reactivated ?? 0) +
          ' being switched back on, ' +
          String(body.still_held ?? 0) +
          ' still held.',
    'ok',
  );
}

/** Handle a click on one of the page's buttons; `after` refreshes the page. */
export function onButton(after: () => Promise<void>): (ev: MouseEvent) => void {
  return (ev) => {
    const target = ev.target;
    if (!(target instanceof Element)) return;
    const button = target.closest<HTMLButtonElement>('button[data-action]');
    if (!button || button.disabled) return;
    const action = button.getAttribute('data-action');
    const account = button.getAttribute('data-account');
    const batch = button.getAttribute('data-batch');
    let step: Promise<void> | undefined;
    if (action === 'reset' && account) step = reset(account);
    else if ((action === 'cancel' || action === 'undo') && batch) step = batchStep(action, batch);
    if (!step) return;
    button.disabled = true;
    void step
      .catch((err: unknown) => {
        notice((action ?? '') + ' failed: ' + errorText(err), 'error');
      })
      .then(after);
  };
}
