import { Api, ApiError } from './api/http.ts';
import { loadSession, saveSession } from './api/session-store.ts';
import { Siren } from './audio/siren.ts';
import { I18n } from './i18n/i18n.ts';
import { FrameQueue } from './live/frame-queue.ts';
import { LiveFeed, type SessionEnd } from './live/live-feed.ts';
import { record } from './live/trace.ts';
import { EstateStore } from './state/estate-store.ts';
import './styles.css';
import type { Session, SiteInfo } from './types.ts';
import { loginView } from './views/login-view.ts';
import { Shell } from './views/shell.ts';
import type { AppContext } from './views/view.ts';

const BOOT_RETRY_MS = 2000;

const root = document.getElementById('app')!;
const i18n = new I18n(localStorage);
document.documentElement.lang = i18n.language;
const siren = new Siren();
// Browsers let audio start only after a gesture: any click on the screen allows the siren.
document.addEventListener('pointerdown', () => siren.unlock(), { once: true });

let stopRunning: (() => void) | undefined;
/** Why the last session ended, shown on the login in the language of the moment. */
let loginReason: SessionEnd | undefined;
const api = new Api(() => endSession('expired'));

function showLogin(reason?: SessionEnd): void {
  loginReason = reason;
  document.body.dataset.view = 'login';
  root.replaceChildren(
    loginView(i18n, api, (session) => {
      siren.unlock();
      saveSession(localStorage, session);
      void boot(session);
    }, reason && i18n.t(`login.ended.${reason}`)),
  );
}

function endSession(reason: SessionEnd): void {
  stopRunning?.();
  stopRunning = undefined;
  api.session = undefined;
  saveSession(localStorage, undefined);
  i18n.useFor(undefined);
  record('session:ended', reason);
  showLogin(reason);
}

async function boot(session: Session): Promise<void> {
  api.session = session;
  i18n.useFor(session.user.username);
  let site: SiteInfo;
  try {
    site = await api.get<SiteInfo>('/api/site');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    // The server is not there yet (restarting): try again.
    root.replaceChildren(Object.assign(document.createElement('p'), { className: 'booting', textContent: i18n.t('conn.connecting') }));
    setTimeout(() => api.session === session && void boot(session), BOOT_RETRY_MS);
    return;
  }
  if (api.session !== session) return;
  start(session, site);
}

function start(session: Session, site: SiteInfo): void {
  const store = new EstateStore();
  let tick = false;
  const ctx: AppContext = {
    i18n,
    api,
    store,
    session,
    site,
    navigate: (hash) => (location.hash = hash),
    requestRender: () => queue.schedule(),
    notify: (text, detail) => shell.notify(text, detail),
  };
  const shell = new Shell(ctx, siren, () => {
    api.post('/api/auth/logout').finally(() => endSession('logout'));
  });
  const queue = new FrameQueue(
    (m) => store.apply(m),
    () => {
      shell.render(store.takeDirty(), tick);
      tick = false;
    },
  );
  const feed = new LiveFeed({
    token: session.token,
    onMessage: (m) => queue.push(m),
    onState: (state, since) => {
      shell.setConnection(state, since);
      queue.schedule();
    },
    onSessionEnded: (reason) => endSession(reason),
  });
  const second = setInterval(() => {
    tick = true;
    queue.schedule();
  }, 1000);
  const onHash = (): void => shell.route();
  const offLanguage = i18n.onChange(() => shell.rebuild());
  window.addEventListener('hashchange', onHash);
  // The token expires after 12 hours even while the screen is quiet.
  const expiry = setTimeout(() => endSession('expired'), Math.max(0, session.expiresAt - Date.now()));
  root.replaceChildren(shell.root);
  feed.start();
  stopRunning = () => {
    feed.stop();
    clearInterval(second);
    clearTimeout(expiry);
    offLanguage();
    window.removeEventListener('hashchange', onHash);
    siren.set(false);
    document.body.classList.remove('has-banner', 'is-disconnected');
    shell.destroy();
  };
}

i18n.onChange(() => {
  if (!stopRunning && api.session === undefined) showLogin(loginReason);
});

const stored = loadSession(localStorage, Date.now());
if (stored) void boot(stored);
else showLogin();
