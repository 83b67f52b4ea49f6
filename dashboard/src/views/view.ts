import type { Api } from '../api/http.ts';
import type { I18n } from '../i18n/i18n.ts';
import type { Dirty, EstateStore } from '../state/estate-store.ts';
import type { Session, SiteInfo } from '../types.ts';

export interface AppContext {
  i18n: I18n;
  api: Api;
  store: EstateStore;
  session: Session;
  site: SiteInfo;
  navigate(hash: string): void;
  /** Renders again at the next frame. */
  requestRender(): void;
  /** A message at the bottom of the screen: a label, and the server's own words (an action refused, a failure). */
  notify(text: string, detail?: string): void;
}

/** One screen. `update` runs once per frame with what changed; `tick` is true once a second (ages, deadlines). */
export interface View {
  readonly root: HTMLElement;
  update(dirty: Dirty, tick: boolean): void;
  /** After a snapshot: true when the view was laid out from what it no longer matches (built before the first snapshot). */
  outdated?(): boolean;
  destroy?(): void;
}
