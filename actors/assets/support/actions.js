// Support actions (admin role only): job-level pause/resume/cancel and the stage actions. Each
// opens a confirmation dialog that says exactly what will happen and asks why; the reason is
// journaled with the action.

import { post, renderPath, ApiError } from './api.js';
import { h } from './dom.js';
import { session } from './session.js';
import { depsOf } from './dag.js';

const NAMES = { retry_stage: 'Retry stage', reroute: 'Reroute stage', restart_from: 'Restart from stage', pause: 'Pause render', resume: 'Resume render', cancel: 'Cancel render' };
// What the creator is told (the server's fixed sentences; never the staff member's words)
const CREATOR_SEES = {
  retry_stage: 'Our support team restarted a step of your render that was stuck or had failed.',
  reroute: 'Our support team moved a step of your render to another renderer to get it done.',
  pause: 'Our support team paused your render while they look into it.',
  resume: 'Our support team resumed your render.',
  cancel: 'Our support team cancelled your render.',
  restart_from: 'Our support team redid part of your render to fix it.',
};

/** Every stage that depends on `id`, directly or not, in plan order */
export function dependents(view, id) {
  const deps = depsOf(view.stages || [], view.edges);
  const out = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [st, ds] of deps) {
      if (!out.has(st) && [...ds].some((d) => out.has(d))) {
        out.add(st);
        grew = true;
      }
    }
  }
  out.delete(id);
  return (view.stages || []).map((s) => s.id).filter((s) => out.has(s));
}

/** The exact consequences of an action, as sentences */
export function consequences(view, { action, stage, model }) {
  const st = (view.stages || []).find((x) => x.id === stage);
  switch (action) {
    case 'retry_stage':
      return [`Stage ${stage} gets a fresh attempt now on its current model (${st?.model || 'unknown'}).`,
        'Its current attempt, if any, is abandoned and cancelled at the provider (best effort); whatever it still reports is ignored.',
        'Only a failed, running or backing-off stage can be retried; otherwise the render refuses and nothing changes.'];
    case 'reroute':
      return [`Stage ${stage} moves from ${st?.model || 'its model'} to ${model}: ${model} goes first in its candidates and a fresh attempt starts on it.`,
        'Its current attempt, if any, is abandoned. A stage still waiting for its inputs starts on the new model once they are ready.'];
    case 'restart_from': {
      const after = dependents(view, stage);
      return [`Stage ${stage} and ${after.length ? `the ${after.length} stage${after.length === 1 ? '' : 's'} depending on it (${after.join(', ')})` : 'no other stage'} are redone with fresh attempts.`,
        'New artifacts are stored under new keys; the old ones stay. A finished render goes back to rendering, and its cost grows.'];
    }
    case 'pause':
      return ['No new submissions for this render; work already in flight is still collected.', 'Resume puts it back where it was.'];
    case 'resume':
      return [`The render goes back to ${view.paused_from ? `"${view.paused_from}"` : 'the status it had before the pause'} and submissions continue.`];
    case 'cancel':
      return ['The render is cancelled as if the creator had cancelled it: nothing more is submitted and work in flight is stopped.', 'This cannot be resumed.'];
    default:
      return [];
  }
}

let seq = 0;

/**
 * Opens the confirmation dialog. onDone(view, message) gets the updated support view.
 * Escape or Cancel closes it; focus goes back to the button that opened it.
 */
export function openActionDialog(view, act, onDone) {
  const opener = document.activeElement;
  const id = `ad${++seq}`;
  const reason = h('textarea', { id: `${id}-r`, testid: 'action-reason', rows: 3, required: true, maxlength: 2000, 'aria-describedby': `${id}-rh` });
  const error = h('p', { class: 'err', role: 'alert', testid: 'action-error' });
  const confirm = h('button', { type: 'submit', class: act.action === 'cancel' ? 'danger' : 'primary', testid: 'action-confirm', disabled: true }, NAMES[act.action]);
  const dismiss = h('button', { type: 'button', testid: 'action-dismiss', onclick: () => dialog.close() }, 'Keep as is');
  const target = act.stage ? ` ${act.stage}` : ` ${view.job_id}`;
  const form = h('form', { method: 'dialog' },
    h('h2', { id: `${id}-h` }, `${NAMES[act.action]}${target}?`),
    h('div', { id: `${id}-d`, class: 'what' }, consequences(view, act).map((t) => h('p', null, t)),
      h('p', { class: 'muted' }, `The creator is told: “${CREATOR_SEES[act.action]}”`)),
    h('label', { for: `${id}-r` }, 'Reason (required)'),
    reason,
    h('p', { id: `${id}-rh`, class: 'muted' }, `Journaled with the action and your key (${session()?.key_label || 'support'}).`),
    error,
    h('div', { class: 'btns' }, dismiss, confirm));
  const dialog = h('dialog', { class: 'action-dialog', testid: 'action-dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': `${id}-h`, 'aria-describedby': `${id}-d` }, form);
  reason.addEventListener('input', () => { confirm.disabled = !reason.value.trim(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const why = reason.value.trim();
    if (!why) return;
    confirm.disabled = true;
    confirm.textContent = 'Working…';
    error.textContent = '';
    const body = { action: act.action, reason: why };
    if (act.stage) body.stage = act.stage;
    if (act.model) body.model = act.model;
    try {
      const updated = await post(renderPath(view.job_id, '/actions'), body);
      dialog.close();
      onDone(updated, `${NAMES[act.action]}${target}: done.`);
    } catch (e) {
      if (!dialog.isConnected) return;
      error.textContent = e instanceof ApiError ? e.text : e.message;
      confirm.textContent = NAMES[act.action];
      confirm.disabled = !reason.value.trim();
    }
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();
  return dialog;
}

/** The job-level action buttons (pause, resume, cancel) */
export function jobActions(view, onAction) {
  const btn = (action, testid, cls) => h('button', { type: 'button', testid, class: cls, onclick: () => onAction(action) }, NAMES[action].replace(' render', ''));
  return h('div', { class: 'job-actions' },
    h('h2', { class: 'sr-only' }, 'Actions'),
    btn('pause', 'action-pause'), btn('resume', 'action-resume'), btn('cancel', 'action-cancel', 'danger'),
    h('span', { class: 'muted' }, 'Stage actions are in each stage\u2019s details.'));
}
