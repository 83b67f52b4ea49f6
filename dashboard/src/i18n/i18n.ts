import { DEFAULT_LANGUAGE, isLanguage, label as domainLabel, type Language } from '../../../common/i18n/labels.ts';
import { UI_EN, UI_ZH, type UiKey } from './ui-strings.ts';

const UI: Record<Language, Record<UiKey, string>> = { 'zh-CN': UI_ZH, en: UI_EN };
const LAST_LANGUAGE = 'fm.language';
const userKey = (username: string): string => `fm.language.${username}`;

/** Marks a label the catalogues lack, so the language test finds it on screen. */
export const MISSING = '⟦missing⟧';

/**
 * The screen's language: Simplified Chinese by default, switchable, remembered per user (and, before
 * anyone logs in, the last one used on this screen).
 */
export class I18n {
  language: Language;
  private readonly listeners = new Set<() => void>();
  private user: string | undefined;

  constructor(private readonly storage: Storage) {
    const last = storage.getItem(LAST_LANGUAGE);
    this.language = isLanguage(last) ? last : DEFAULT_LANGUAGE;
  }

  /** After login: the user's own language, if they chose one before. */
  useFor(username: string | undefined): void {
    this.user = username;
    const own = username === undefined ? null : this.storage.getItem(userKey(username));
    if (isLanguage(own)) this.set(own, false);
  }

  set(language: Language, remember = true): void {
    if (remember) {
      this.storage.setItem(LAST_LANGUAGE, language);
      if (this.user !== undefined) this.storage.setItem(userKey(this.user), language);
    }
    if (language === this.language) return;
    this.language = language;
    document.documentElement.lang = language;
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A UI string with `{name}` replaced. */
  t(key: UiKey, vars: Record<string, string | number> = {}): string {
    const text = UI[this.language][key] ?? `${MISSING}${key}`;
    return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
  }

  /** A domain label (`ticketState`, `open`); an unknown value (a rule the site file added) shows as itself. */
  label(group: string, value: string): string {
    return domainLabel(this.language, group, value) ?? value;
  }

  /** Whether the catalogue has the label (else the caller shows the estate's own text). */
  has(group: string, value: string): boolean {
    return domainLabel(this.language, group, value) !== undefined;
  }

  /** The alarm title in the screen's language (titles are written by the rules in both). */
  pick(text: { en: string; zh: string }): string {
    return this.language === 'en' ? text.en : text.zh;
  }
}
