import type { LocalizedText } from '../alarms/alarm.ts';

export type TitleVars = Record<string, string | number | undefined>;

/** Fills `{name}` placeholders; numbers are shown with at most three decimals, unknown names as ''. */
export function renderTitle(template: LocalizedText, vars: TitleVars): LocalizedText {
  return { en: fill(template.en, vars), zh: fill(template.zh, vars) };
}

function fill(text: string, vars: TitleVars): string {
  return text
    .replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = vars[name];
      if (v === undefined) return '';
      return typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : v;
    })
    .replace(/\s+/g, ' ')
    .trim();
}
