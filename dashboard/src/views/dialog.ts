import { el } from '../dom.ts';
import type { I18n } from '../i18n/i18n.ts';

/**
 * A modal form: `fields` are the form's inputs; `submit` gets the form data and resolves when the
 * server accepted (the dialog closes) or throws (its message stays in the dialog).
 */
export function openDialog(i18n: I18n, title: string, fields: HTMLElement[], submit: (data: FormData) => Promise<void>): void {
  const error = el('div', { class: 'dialog-error', 'data-content': true });
  const form = el('form', { class: 'dialog', method: 'dialog' }, el('h2', {}, title), ...fields, error);
  const close = (): void => backdrop.remove();
  const confirm = el('button', { type: 'submit', class: 'primary', 'data-action': 'confirm' }, i18n.t('ticket.submit'));
  form.append(el('div', { class: 'dialog-buttons' }, el('button', { type: 'button', onclick: close }, i18n.t('ticket.cancel')), confirm));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    confirm.disabled = true;
    submit(new FormData(form)).then(close, (err: unknown) => {
      confirm.disabled = false;
      error.textContent = err instanceof Error ? err.message : String(err);
    });
  });
  const backdrop = el('div', { class: 'dialog-backdrop' }, form);
  document.body.append(backdrop);
  form.querySelector<HTMLElement>('input, select, textarea')?.focus();
}

export function field(labelText: string, input: HTMLElement): HTMLElement {
  return el('label', { class: 'field' }, el('span', {}, labelText), input);
}
