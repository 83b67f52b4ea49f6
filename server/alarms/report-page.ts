import type { AlarmReport, ReportedPoint } from './alarm-report.ts';

export type ReportLanguage = 'zh-CN' | 'en';

const TEXT = {
  'zh-CN': {
    title: '报警系统报告',
    period: '统计时段',
    rate: '报警率（每 {minutes} 分钟）',
    alarms: '报警条数',
    average: '平均',
    peak: '峰值',
    floodShare: '报警泛滥的时段占比',
    floods: '报警泛滥记录',
    started: '开始',
    ended: '结束',
    going: '进行中',
    floodAlarms: '报警条数',
    grouped: '已归并',
    top: '最频繁的报警',
    chattering: '抖动报警',
    fleeting: '瞬时报警（{seconds} 秒内恢复）',
    stale: '长期报警（持续超过 {hours} 小时）',
    shelved: '搁置',
    suppressed: '按原因抑制',
    workOrders: '报警生成的工单',
    perWorkOrder: '每张工单对应的报警数',
    point: '报警点',
    alarmTitle: '报警',
    count: '报警',
    trips: '触发次数',
    none: '无',
  },
  en: {
    title: 'Alarm system report',
    period: 'Period',
    rate: 'Alarm rate (per {minutes} minutes)',
    alarms: 'Alarms',
    average: 'average',
    peak: 'peak',
    floodShare: 'Share of windows in flood',
    floods: 'Alarm floods',
    started: 'Started',
    ended: 'Ended',
    going: 'going on',
    floodAlarms: 'Alarms',
    grouped: 'Grouped',
    top: 'Most frequent alarms',
    chattering: 'Chattering alarms',
    fleeting: 'Fleeting alarms (back to normal within {seconds} s)',
    stale: 'Stale alarms (active over {hours} h)',
    shelved: 'Shelved',
    suppressed: 'Suppressed by cause',
    workOrders: 'Work orders opened by alarms',
    perWorkOrder: 'Alarms per work order',
    point: 'Alarm point',
    alarmTitle: 'Alarm',
    count: 'Alarms',
    trips: 'Trips',
    none: 'none',
  },
} as const;

type Words = Record<keyof (typeof TEXT)['en'], string>;

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

export interface ReportPageOptions {
  lang: ReportLanguage;
  /** The estate's name and time zone: times are shown in it. */
  estate: { name: string; timezone: string };
  fleetingMs: number;
  staleMs: number;
}

/** The report as one printable HTML page (no script, no outside resources), in one language. */
export function renderReportPage(report: AlarmReport, options: ReportPageOptions): string {
  const t: Words = TEXT[options.lang];
  const time = new Intl.DateTimeFormat(options.lang, { timeZone: options.estate.timezone, dateStyle: 'medium', timeStyle: 'short' });
  const at = (ms: number): string => escape(time.format(ms));
  const pick = (title: { en: string; zh: string }): string => escape(options.lang === 'en' ? title.en : title.zh);
  const points = (heading: string, list: ReportedPoint[]): string =>
    `<h2>${escape(heading)} <span class="n">${list.length}</span></h2>` +
    (list.length === 0
      ? `<p class="none">${escape(t.none)}</p>`
      : `<table><thead><tr><th>${escape(t.point)}</th><th>${escape(t.alarmTitle)}</th><th class="num">${escape(t.count)}</th><th class="num">${escape(t.trips)}</th></tr></thead><tbody>${list
          .map((p) => `<tr><td>${escape(p.key)}</td><td>${pick(p.title)}</td><td class="num">${p.alarms}</td><td class="num">${p.trips}</td></tr>`)
          .join('')}</tbody></table>`);
  const figure = (label: string, value: string | number): string => `<div class="figure"><div class="value">${escape(String(value))}</div><div class="label">${escape(label)}</div></div>`;
  const floods =
    report.floods.length === 0
      ? `<p class="none">${escape(t.none)}</p>`
      : `<table><thead><tr><th>${escape(t.started)}</th><th>${escape(t.ended)}</th><th class="num">${escape(t.peak)}</th><th class="num">${escape(t.floodAlarms)}</th><th class="num">${escape(t.grouped)}</th></tr></thead><tbody>${report.floods
          .map((f) => `<tr><td>${at(f.startedAt)}</td><td>${f.endedAt !== undefined ? at(f.endedAt) : escape(t.going)}</td><td class="num">${f.peak}</td><td class="num">${f.alarms}</td><td class="num">${f.grouped}</td></tr>`)
          .join('')}</tbody></table>`;
  const minutes = Math.round(report.windowMs / 60_000);
  return `<!doctype html>
<html lang="${options.lang}">
<head>
<meta charset="utf-8">
<title>${escape(t.title)} · ${escape(options.estate.name)}</title>
<style>
body { font: 14px/1.4 system-ui, "Noto Sans CJK SC", sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.6em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.4em 0 .4em; border-bottom: 1px solid #999; }
.period { color: #444; } .figures { display: flex; flex-wrap: wrap; gap: 1em; margin-top: 1em; }
.figure { border: 1px solid #999; padding: .5em .8em; min-width: 9em; } .value { font-size: 1.6em; font-weight: 600; } .label { color: #444; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ccc; padding: .25em .5em; text-align: left; } .num { text-align: right; }
.none { color: #666; } .n { color: #666; font-weight: normal; }
@media print { body { margin: 0; } .figure { break-inside: avoid; } table { break-inside: auto; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>${escape(t.title)} · ${escape(options.estate.name)}</h1>
<p class="period">${escape(t.period)}: ${at(report.from)} – ${at(report.to)}</p>
<h2>${escape(fill(t.rate, { minutes }))}</h2>
<div class="figures">
${figure(t.alarms, report.alarms)}
${figure(t.average, report.perWindow.average)}
${figure(t.peak, report.perWindow.peak)}
${figure(t.floodShare, `${Math.round(report.floodShare * 1000) / 10} %`)}
${figure(t.shelved, report.shelved)}
${figure(t.suppressed, report.suppressed)}
${figure(t.workOrders, report.workOrders)}
${figure(t.perWorkOrder, report.alarmsPerWorkOrder ?? '–')}
</div>
<h2>${escape(t.floods)} <span class="n">${report.floods.length}</span></h2>
${floods}
${points(t.top, report.mostFrequent)}
${points(t.chattering, report.chattering)}
${points(fill(t.fleeting, { seconds: Math.round(options.fleetingMs / 1000) }), report.fleeting)}
${points(fill(t.stale, { hours: Math.round(options.staleMs / 3_600_000) }), report.stale)}
</body>
</html>
`;
}
