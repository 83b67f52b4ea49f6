import type { I18n } from '../i18n/i18n.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A time in the estate's time zone, in the screen's language. */
export function formatTime(i18n: I18n, timeZone: string, ms: number, withDate = true): string {
  const key = `${i18n.language}|${timeZone}|${withDate}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(i18n.language, {
      timeZone,
      hour12: false,
      ...(withDate ? { month: '2-digit', day: '2-digit' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      second: withDate ? undefined : '2-digit',
    });
    formatters.set(key, f);
  }
  return f.format(ms);
}

/** "12 s", "3 min", "5 h", "2 d". */
export function formatAge(i18n: I18n, ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return i18n.t('age.s', { n: s });
  if (s < 7200) return i18n.t('age.m', { n: Math.floor(s / 60) });
  if (s < 172_800) return i18n.t('age.h', { n: Math.floor(s / 3600) });
  return i18n.t('age.d', { n: Math.floor(s / 86_400) });
}

export function formatValue(value: number | null, engUnit?: string): string {
  if (value === null) return '—';
  const digits = Math.abs(value) >= 1000 ? 0 : Math.abs(value) >= 100 ? 1 : 2;
  const text = value.toLocaleString('en', { maximumFractionDigits: digits });
  return engUnit ? `${text} ${engUnit === 'm3' ? 'm³' : engUnit === 'm3/h' ? 'm³/h' : engUnit}` : text;
}

export function percent(met: number, total: number): string {
  return total === 0 ? '—' : `${Math.round((met / total) * 100)} %`;
}
