/**
 * The catalogue of domain labels in Simplified Chinese and English: the words of the company's
 * procedures (docs/domain.md) for work-order categories, states and actions, priorities, roles,
 * alarm states and severities, device kinds, events, metrics and the default rules. The server
 * serves it (`GET /api/labels`) and the dashboard renders with it. Keys are `group.value`.
 */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'zh-CN';

const EN = {
  'category.fire-safety': 'Fire safety',
  'category.water-leak': 'Seepage and leaks',
  'category.electrical': 'Electrical',
  'category.access-security': 'Access and security',
  'category.general': 'General repair',
  'category.complaint': 'Complaint',

  'ticketState.open': 'Open',
  'ticketState.acknowledged': 'Taken',
  'ticketState.in_progress': 'In progress',
  'ticketState.resolved': 'Repaired',
  'ticketState.callback_done': 'Called back',
  'ticketState.closed': 'Closed',
  'ticketState.reopened': 'Reopened',

  'ticketAction.acknowledge': 'Take the job',
  'ticketAction.assign': 'Assign',
  'ticketAction.start': 'Start work',
  'ticketAction.resolve': 'Mark repaired',
  'ticketAction.leak-test': 'Record leak test',
  'ticketAction.callback': 'Record callback',
  'ticketAction.close': 'Close',
  'ticketAction.reopen': 'Reopen',
  'ticketAction.create': 'Recorded',
  'ticketAction.raise': 'Raised by alarm',
  'ticketAction.occurrence': 'Alarm repeated',

  'source.alarm': 'Alarm',
  'source.manual': 'Repair request',
  'source.complaint': 'Complaint',
  'source.inspection': 'Inspection',
  'source.handover': 'Handover defect',

  'priority.critical': 'Critical',
  'priority.high': 'High',
  'priority.medium': 'Medium',
  'priority.low': 'Low',

  'severity.critical': 'Critical',
  'severity.high': 'High',
  'severity.medium': 'Medium',
  'severity.low': 'Low',

  'role.administrator': 'Administrator',
  'role.engineer': 'Engineer',
  'role.service-desk': 'Service desk',
  'role.viewer': 'Viewer',

  'alarmState.active-unacknowledged': 'Active, unacknowledged',
  'alarmState.active-acknowledged': 'Active, acknowledged',
  'alarmState.cleared-unacknowledged': 'Returned to normal, unacknowledged',
  'alarmState.cleared': 'Cleared',

  'alarmFlag.chattering': 'Chattering',
  'alarmFlag.shelved': 'Shelved',
  'alarmFlag.suppressed': 'Suppressed',
  'alarmFlag.flood': 'Alarm flood',

  'alarmAction.acknowledge': 'Acknowledge',
  'alarmAction.shelve': 'Shelve',
  'alarmAction.unshelve': 'Unshelve',

  'callbackStatus.not-resolved': 'Not repaired yet',
  'callbackStatus.leak-test-pending': 'Waiting for the leak test',
  'callbackStatus.due': 'Callback due',
  'callbackStatus.done': 'Called back',

  'callbackOutcome.satisfied': 'Owner satisfied',
  'callbackOutcome.problem': 'Problem found: back to the repair team',

  'deadline.response': 'Response',
  'deadline.callback': 'Callback',
  'deadline.reply': 'Reply',

  'deviceKind.tank': 'Water tank',
  'deviceKind.meter-water': 'Water meter',
  'deviceKind.meter-electric': 'Electricity meter',
  'deviceKind.meter-gas': 'Gas meter',
  'deviceKind.fire-panel': 'Fire alarm panel',
  'deviceKind.door': 'Door access',
  'deviceKind.emergency-button': 'Emergency call button',

  'deviceStatus.online': 'Online',
  'deviceStatus.offline': 'Offline',
  'deviceStatus.unknown': 'Not heard yet',

  'buildingCondition.alarm': 'Alarm',
  'buildingCondition.warning': 'Warning',
  'buildingCondition.offline': 'Devices offline',
  'buildingCondition.normal': 'Normal',

  'buildingType.residential': 'Residential',
  'buildingType.office': 'Office',
  'buildingType.commercial': 'Commercial',

  'quality.good': 'Good',
  'quality.uncertain': 'Uncertain',
  'quality.bad': 'Bad',

  'metric.level_mm': 'Level',
  'metric.pump_running': 'Pump',
  'metric.float_low': 'Low float switch',
  'metric.float_high': 'High float switch',
  'metric.voltage_v': 'Voltage',
  'metric.current_a': 'Current',
  'metric.power_w': 'Power',
  'metric.energy_kwh': 'Energy',
  'metric.volume_m3': 'Volume',
  'metric.flow_m3h': 'Flow',

  'event.alarm': 'Fire alarm',
  'event.fault': 'Fault',
  'event.restore': 'Restored',
  'event.open': 'Open',
  'event.closed': 'Closed',
  'event.forced': 'Forced open',
  'event.held_open': 'Held open',
  'event.card_granted': 'Card accepted',
  'event.card_denied': 'Card refused',
  'event.pressed': 'Pressed',
  'event.reset': 'Reset',

  'rule.tank-level-low': 'Tank level low',
  'rule.tank-level-high': 'Tank level high, overflow risk',
  'rule.device-offline': 'Device not reporting',
  'rule.water-leak': 'Possible water leak',
  'rule.meter-backwards': 'Meter counting backwards',
  'rule.electric-overuse': 'Abnormal electricity use',
  'rule.voltage-high': 'Over-voltage',
  'rule.voltage-low': 'Under-voltage',
  'rule.gas-overuse': 'Abnormal gas use',
  'rule.fire-zone-alarm': 'Fire alarm in an alarm zone',
  'rule.fire-panel-fault': 'Fire panel fault',
  'rule.door-forced': 'Door forced open',
  'rule.door-held-open': 'Door held open',
  'rule.emergency-call': 'Emergency call',

  'term.work-order': 'Work order',
  'term.repair-request': 'Repair request',
  'term.callback': 'Callback',
  'term.reply': 'Reply',
  'term.leak-test': 'Leak test',
  'term.seepage': 'Seepage',
  'term.safety-facility': 'Safety facility',
  'term.alarm-zone': 'Alarm zone',
  'term.gas': 'Gas',
} as const;

export type LabelKey = keyof typeof EN;

const ZH: Record<LabelKey, string> = {
  'category.fire-safety': '消防安全设施',
  'category.water-leak': '渗漏水',
  'category.electrical': '电气',
  'category.access-security': '门禁安防',
  'category.general': '综合维修',
  'category.complaint': '投诉',

  'ticketState.open': '待签领',
  'ticketState.acknowledged': '已签领',
  'ticketState.in_progress': '维修中',
  'ticketState.resolved': '已修复',
  'ticketState.callback_done': '已回访',
  'ticketState.closed': '已关闭',
  'ticketState.reopened': '已返修',

  'ticketAction.acknowledge': '签领',
  'ticketAction.assign': '派工',
  'ticketAction.start': '开始维修',
  'ticketAction.resolve': '维修完成',
  'ticketAction.leak-test': '登记试漏',
  'ticketAction.callback': '登记回访',
  'ticketAction.close': '关闭',
  'ticketAction.reopen': '返修',
  'ticketAction.create': '登记',
  'ticketAction.raise': '报警生成',
  'ticketAction.occurrence': '报警再次发生',

  'source.alarm': '报警',
  'source.manual': '报修',
  'source.complaint': '投诉',
  'source.inspection': '巡查',
  'source.handover': '交房问题',

  'priority.critical': '紧急',
  'priority.high': '高',
  'priority.medium': '中',
  'priority.low': '低',

  'severity.critical': '紧急',
  'severity.high': '高',
  'severity.medium': '中',
  'severity.low': '低',

  'role.administrator': '管理员',
  'role.engineer': '工程人员',
  'role.service-desk': '客服',
  'role.viewer': '只读用户',

  'alarmState.active-unacknowledged': '报警中，未确认',
  'alarmState.active-acknowledged': '报警中，已确认',
  'alarmState.cleared-unacknowledged': '已恢复，未确认',
  'alarmState.cleared': '已消除',

  'alarmFlag.chattering': '频繁报警',
  'alarmFlag.shelved': '已搁置',
  'alarmFlag.suppressed': '已抑制',
  'alarmFlag.flood': '报警泛滥',

  'alarmAction.acknowledge': '确认',
  'alarmAction.shelve': '搁置',
  'alarmAction.unshelve': '取消搁置',

  'callbackStatus.not-resolved': '尚未修复',
  'callbackStatus.leak-test-pending': '等待试漏',
  'callbackStatus.due': '待回访',
  'callbackStatus.done': '已回访',

  'callbackOutcome.satisfied': '业主满意',
  'callbackOutcome.problem': '发现问题，退回维修',

  'deadline.response': '响应',
  'deadline.callback': '回访',
  'deadline.reply': '回复',

  'deviceKind.tank': '水箱',
  'deviceKind.meter-water': '水表',
  'deviceKind.meter-electric': '电表',
  'deviceKind.meter-gas': '燃气表',
  'deviceKind.fire-panel': '消防报警主机',
  'deviceKind.door': '门禁',
  'deviceKind.emergency-button': '紧急呼叫按钮',

  'deviceStatus.online': '在线',
  'deviceStatus.offline': '离线',
  'deviceStatus.unknown': '尚无数据',

  'buildingCondition.alarm': '报警',
  'buildingCondition.warning': '预警',
  'buildingCondition.offline': '设备离线',
  'buildingCondition.normal': '正常',

  'buildingType.residential': '住宅',
  'buildingType.office': '写字楼',
  'buildingType.commercial': '商业',

  'quality.good': '正常',
  'quality.uncertain': '存疑',
  'quality.bad': '无效',

  'metric.level_mm': '水位',
  'metric.pump_running': '水泵',
  'metric.float_low': '低水位浮球',
  'metric.float_high': '高水位浮球',
  'metric.voltage_v': '电压',
  'metric.current_a': '电流',
  'metric.power_w': '功率',
  'metric.energy_kwh': '电量',
  'metric.volume_m3': '累计用量',
  'metric.flow_m3h': '流量',

  'event.alarm': '火警',
  'event.fault': '故障',
  'event.restore': '复位',
  'event.open': '开门',
  'event.closed': '关门',
  'event.forced': '被强行打开',
  'event.held_open': '长时间未关',
  'event.card_granted': '刷卡通过',
  'event.card_denied': '刷卡被拒',
  'event.pressed': '已按下',
  'event.reset': '已复位',

  'rule.tank-level-low': '水箱水位过低',
  'rule.tank-level-high': '水箱水位过高，有溢流风险',
  'rule.device-offline': '设备离线',
  'rule.water-leak': '疑似漏水',
  'rule.meter-backwards': '表计读数倒走',
  'rule.electric-overuse': '用电异常',
  'rule.voltage-high': '电压过高',
  'rule.voltage-low': '电压过低',
  'rule.gas-overuse': '燃气用量异常',
  'rule.fire-zone-alarm': '报警区域火警',
  'rule.fire-panel-fault': '消防报警主机故障',
  'rule.door-forced': '门被强行打开',
  'rule.door-held-open': '门长时间未关',
  'rule.emergency-call': '紧急呼叫',

  'term.work-order': '维修工作单',
  'term.repair-request': '报修',
  'term.callback': '回访',
  'term.reply': '回复',
  'term.leak-test': '试漏',
  'term.seepage': '渗漏水',
  'term.safety-facility': '安全设施',
  'term.alarm-zone': '报警区域',
  'term.gas': '燃气',
};

export const LABELS: Readonly<Record<Language, Readonly<Record<LabelKey, string>>>> = { 'zh-CN': ZH, en: EN };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function isLabelKey(key: string): key is LabelKey {
  return Object.hasOwn(EN, key);
}

/** The label of `group.value` (e.g. `ticketState`, `open`); undefined when the catalogue has none (a rule the site file added). */
export function label(language: Language, group: string, value: string): string | undefined {
  const key = `${group}.${value}`;
  return isLabelKey(key) ? LABELS[language][key] : undefined;
}
