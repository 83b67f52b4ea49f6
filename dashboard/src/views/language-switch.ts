import { LANGUAGES, type Language } from '../../../common/i18n/labels.ts';
import { el } from '../dom.ts';
import type { I18n } from '../i18n/i18n.ts';

/** Each language is named in itself, as language menus do. */
const NAMES: Record<Language, string> = { 'zh-CN': '中文', en: 'English' };

export function languageSwitch(i18n: I18n): HTMLElement {
  return el(
    'div',
    { class: 'language-switch', role: 'group', 'aria-label': i18n.t('app.language') },
    ...LANGUAGES.map((l) =>
      el('button', { type: 'button', lang: l, 'data-language': l, 'data-content': true, 'aria-pressed': l === i18n.language ? 'true' : 'false', onclick: () => i18n.set(l) }, NAMES[l]),
    ),
  );
}
