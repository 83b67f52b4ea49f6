import { ApiError, type Api } from '../api/http.ts';
import { el } from '../dom.ts';
import type { I18n } from '../i18n/i18n.ts';
import type { Session } from '../types.ts';
import { languageSwitch } from './language-switch.ts';

/** The login (POST /api/auth/login); `message` says why the last session ended. */
export function loginView(i18n: I18n, api: Api, onLogin: (s: Session) => void, message?: string): HTMLElement {
  const error = el('div', { class: 'login-error', role: 'alert' }, message ?? '');
  const username = el('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = el('button', { type: 'submit', class: 'primary' }, i18n.t('login.submit'));
  const form = el(
    'form',
    { class: 'login' },
    el('h1', {}, i18n.t('app.title')),
    el('h2', {}, i18n.t('login.title')),
    el('label', { class: 'field' }, el('span', {}, i18n.t('login.username')), username),
    el('label', { class: 'field' }, el('span', {}, i18n.t('login.password')), password),
    submit,
    error,
    el('div', { class: 'login-language' }, languageSwitch(i18n)),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    api.post<Session>('/api/auth/login', { username: username.value.trim(), password: password.value }).then(onLogin, (err: unknown) => {
      submit.disabled = false;
      const status = err instanceof ApiError ? err.status : 0;
      error.textContent = status === 401 || status === 400 ? i18n.t('login.wrong') : status === 429 ? i18n.t('login.tooMany') : i18n.t('login.failed');
    });
  });
  return el('main', { class: 'login-page' }, form);
}
