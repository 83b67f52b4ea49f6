/**
 * The catalogue of domain labels in Simplified Chinese and English: the words of the company's
 * procedures (docs/domain.md) for work-order categories, states and actions, priorities, roles,
 * complaint types, callbacks, escalation, alarm states and severities, device kinds, events,
 * metrics, the default rules and their alarm titles, the monthly report and the webhook's messages.
 * The server serves it (`GET /api/labels`), titles alarms and their work orders and writes its
 * reports with it; the dashboard renders with it. Keys are `group.value`.
 */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'zh-CN';

const EN = {
  'category.fire-safety': 'Fire safety',
  'category.lift': 'Lift',
  'category.water-leak': 'Seepage and leaks',
  'category.water-supply': 'Water supply',
  'category.electrical': 'Electrical',
  'category.access-security': 'Access and security',
  'category.general': 'General repair',
  'category.complaint': 'Complaint',

  'ticketState.open': 'Open',
  'ticketState.acknowledged': 'Taken',
  'ticketState.in_progress': 'In progress',
  'ticketState.resolved': 'Repaired',
  'ticketState.quality_checked': 'Quality checked',
  'ticketState.callback_done': 'Called back',
  'ticketState.verified': 'Verified',
  'ticketState.closed': 'Closed',
  'ticketState.reopened': 'Reopened',

  'ticketAction.acknowledge': 'Take the job',
  'ticketAction.assign': 'Assign',
  'ticketAction.start': 'Start work',
  'ticketAction.resolve': 'Mark repaired',
  'ticketAction.leak-test': 'Record leak test',
  'ticketAction.quality-check': 'Quality check',
  'ticketAction.reply': 'Reply to the complaint',
  'ticketAction.callback': 'Record callback',
  'ticketAction.verify': 'Verify internally',
  'ticketAction.escalate': 'Escalate',
  'ticketAction.close': 'Close',
  'ticketAction.reopen': 'Reopen',
  'ticketAction.create': 'Recorded',
  'ticketAction.raise': 'Raised by alarm',
  'ticketAction.occurrence': 'Alarm repeated',
  'ticketAction.page': 'Emergency team paged',

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
  'role.service-supervisor': 'Customer-service supervisor',
  'role.engineering-supervisor': 'Engineering supervisor',
  'role.estate-manager': 'Estate manager',
  'role.property-manager': 'Property manager',

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

  'callbackOutcome.satisfied': 'Owner confirms the repair',
  'callbackOutcome.problem': 'Problem found: back to the repair team',
  'callbackOutcome.not-home': 'Owner not at home: try again',

  'callbackMethod.phone': 'By phone',
  'callbackMethod.visit': 'Visit',

  'satisfaction.satisfied': 'Satisfied',
  'satisfaction.basically-satisfied': 'Basically satisfied',
  'satisfaction.dissatisfied': 'Dissatisfied',

  'complaintType.valid': 'Valid complaint',
  'complaintType.help': 'Communication: asking for help',
  'complaintType.enquiry': 'Communication: enquiry',
  'complaintType.venting': 'Communication: venting',

  'followUp.callback': 'Callback to the owner',
  'followUp.verification': 'Internal verification',

  'qualityCheck.pass': 'Passed',
  'qualityCheck.fail': 'Failed: back to the repair team',

  'verification.ok': 'Verified',
  'verification.problem': 'Problem found: back to the repair team',

  'escalationLevel.0': 'Not escalated',
  'escalationLevel.1': 'Supervisor',
  'escalationLevel.2': 'Estate manager',
  'escalationLevel.3': 'Property manager',

  'escalationReason.response-overdue': 'Response overdue',
  'escalationReason.reply-overdue': 'Complaint reply overdue',
  'escalationReason.callback-overdue': 'Callback overdue',
  'escalationReason.verification-overdue': 'Verification overdue',
  'escalationReason.callback-problem': 'Callback found a problem',
  'escalationReason.by-hand': 'Escalated by hand',

  'pageReason.people-trapped': 'People trapped in a lift',
  'pageReason.critical': 'Critical work order',

  'notice.escalation': '[{estate}] Work order #{id} "{title}" ({place}): {reason}; escalated to {role}.',
  'notice.emergency-page': '[{estate}] URGENT: work order #{id} "{title}" ({place}): {reason}. Emergency team, act now.',

  'deadline.response': 'Response',
  'deadline.callback': 'Callback',
  'deadline.reply': 'Reply',
  'deadline.verification': 'Verification',

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
  'term.people-trapped': 'People trapped',
  'term.quality-check': 'Quality check',
  'term.emergency-team': 'Emergency team',

  'report.title': 'Monthly work-order statistics',
  'report.estate': 'Estate',
  'report.month': 'Month',
  'report.generated': 'Generated',
  'report.section': 'Section',
  'report.item': 'Item',
  'report.value': 'Value',
  'report.target': 'Target',
  'report.none': 'None',
  'report.received': 'Work orders received',
  'report.byCategory': 'By category',
  'report.bySource': 'By source',
  'report.total': 'Total',
  'report.response': 'Response (taking the job)',
  'report.onTime': 'On time',
  'report.late': 'Late',
  'report.notResponded': 'Still not taken, overdue',
  'report.pending': 'Not due yet',
  'report.onTimeRate': 'On-time rate',
  'report.replies': 'Complaint replies',
  'report.unanswered': 'Not answered, overdue',
  'report.complaints': 'Complaints received',
  'report.callbacks': 'Callbacks to owners',
  'report.made': 'Made',
  'report.missed': 'Missed',
  'report.notHome': 'Owner not at home',
  'report.callbackRate': 'Callback rate',
  'report.verifications': 'Internal verifications',
  'report.qualityChecks': 'Quality checks',
  'report.satisfaction': 'Owner satisfaction',
  'report.rated': 'Owners asked',
  'report.satisfactionRate': 'Satisfaction rate',
  'report.escalations': 'Escalations',
  'report.byLevel': 'By level',
  'report.byReason': 'By reason',
  'report.recurring': 'Recurring problems: same unit and category within 30 days',
  'report.groups': 'Problems',
  'report.repeats': 'Repeat work orders',
  'report.unit': 'Unit',
  'report.workOrders': 'Work orders',

  'alarmTitle.tank-level-low': '{deviceName} level low: {value} mm (limit {limit} mm)',
  'alarmTitle.tank-level-high': '{deviceName} level high, overflow risk: {value} mm (limit {limit} mm)',
  'alarmTitle.device-offline': '{deviceName} is not reporting',
  'alarmTitle.water-leak': '{deviceName} possible leak: {value} m³ in the last hour (limit {limit} m³)',
  'alarmTitle.meter-backwards': '{deviceName} counter went backwards (meter fault)',
  'alarmTitle.electric-overuse': '{deviceName} abnormal consumption: {value} kWh in the last hour (limit {limit} kWh)',
  'alarmTitle.voltage-high': '{deviceName} over-voltage: {value} V (limit {limit} V)',
  'alarmTitle.voltage-low': '{deviceName} under-voltage: {value} V (limit {limit} V)',
  'alarmTitle.gas-overuse': '{deviceName} abnormal gas flow: {value} m³ in the last hour (limit {limit} m³)',
  'alarmTitle.fire-zone-alarm': 'FIRE ALARM {building} alarm zone {instance}',
  'alarmTitle.fire-panel-fault': '{deviceName} fault {instance}',
  'alarmTitle.door-forced': '{deviceName} forced open',
  'alarmTitle.door-held-open': '{deviceName} held open',
  'alarmTitle.emergency-call': 'EMERGENCY CALL {deviceName}',
} as const;

export type LabelKey = keyof typeof EN;

const ZH: Record<LabelKey, string> = {
  'category.fire-safety': '消防安全设施',
  'category.lift': '电梯',
  'category.water-leak': '渗漏水',
  'category.water-supply': '供水',
  'category.electrical': '电气',
  'category.access-security': '门禁安防',
  'category.general': '综合维修',
  'category.complaint': '投诉',

  'ticketState.open': '待签领',
  'ticketState.acknowledged': '已签领',
  'ticketState.in_progress': '维修中',
  'ticketState.resolved': '已修复',
  'ticketState.quality_checked': '质检合格',
  'ticketState.callback_done': '已回访',
  'ticketState.verified': '已验证',
  'ticketState.closed': '已关闭',
  'ticketState.reopened': '已返修',

  'ticketAction.acknowledge': '签领',
  'ticketAction.assign': '派工',
  'ticketAction.start': '开始维修',
  'ticketAction.resolve': '维修完成',
  'ticketAction.leak-test': '登记试漏',
  'ticketAction.quality-check': '质量检查',
  'ticketAction.reply': '回复投诉',
  'ticketAction.callback': '登记回访',
  'ticketAction.verify': '内部验证',
  'ticketAction.escalate': '上报',
  'ticketAction.close': '关闭',
  'ticketAction.reopen': '返修',
  'ticketAction.create': '登记',
  'ticketAction.raise': '报警生成',
  'ticketAction.occurrence': '报警再次发生',
  'ticketAction.page': '已通知应急小组',

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
  'role.service-supervisor': '客服部主管',
  'role.engineering-supervisor': '工程部主管',
  'role.estate-manager': '项目经理',
  'role.property-manager': '物业经理',

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

  'callbackOutcome.satisfied': '业主确认修好',
  'callbackOutcome.problem': '发现问题，退回维修',
  'callbackOutcome.not-home': '业主不在家，择时再访',

  'callbackMethod.phone': '电话回访',
  'callbackMethod.visit': '上门回访',

  'satisfaction.satisfied': '满意',
  'satisfaction.basically-satisfied': '基本满意',
  'satisfaction.dissatisfied': '不满意',

  'complaintType.valid': '有效投诉',
  'complaintType.help': '沟通性投诉（求助型）',
  'complaintType.enquiry': '沟通性投诉（咨询型）',
  'complaintType.venting': '沟通性投诉（发泄型）',

  'followUp.callback': '客服回访',
  'followUp.verification': '内部验证',

  'qualityCheck.pass': '合格',
  'qualityCheck.fail': '不合格，退回维修',

  'verification.ok': '验证合格',
  'verification.problem': '发现问题，退回维修',

  'escalationLevel.0': '未上报',
  'escalationLevel.1': '主管',
  'escalationLevel.2': '项目经理',
  'escalationLevel.3': '物业经理',

  'escalationReason.response-overdue': '响应超时',
  'escalationReason.reply-overdue': '投诉回复超时',
  'escalationReason.callback-overdue': '回访超时',
  'escalationReason.verification-overdue': '验证超时',
  'escalationReason.callback-problem': '回访发现问题',
  'escalationReason.by-hand': '人工上报',

  'pageReason.people-trapped': '电梯困人',
  'pageReason.critical': '紧急维修工作单',

  'notice.escalation': '【{estate}】维修工作单 #{id}「{title}」（{place}）：{reason}，已上报{role}。',
  'notice.emergency-page': '【{estate}】紧急：维修工作单 #{id}「{title}」（{place}）：{reason}，请突发事件应急小组立即处理。',

  'deadline.response': '响应',
  'deadline.callback': '回访',
  'deadline.reply': '回复',
  'deadline.verification': '验证',

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
  'term.people-trapped': '困人',
  'term.quality-check': '质量检查',
  'term.emergency-team': '突发事件应急小组',

  'report.title': '月度维修服务统计',
  'report.estate': '小区',
  'report.month': '月份',
  'report.generated': '生成时间',
  'report.section': '项目',
  'report.item': '指标',
  'report.value': '数值',
  'report.target': '目标',
  'report.none': '无',
  'report.received': '受理维修工作单',
  'report.byCategory': '按类别',
  'report.bySource': '按来源',
  'report.total': '总数',
  'report.response': '响应（签领）',
  'report.onTime': '按时',
  'report.late': '超时',
  'report.notResponded': '超时未签领',
  'report.pending': '未到期',
  'report.onTimeRate': '及时率',
  'report.replies': '投诉回复',
  'report.unanswered': '超时未回复',
  'report.complaints': '受理投诉',
  'report.callbacks': '业主回访',
  'report.made': '已完成',
  'report.missed': '逾期未完成',
  'report.notHome': '业主不在家',
  'report.callbackRate': '回访率',
  'report.verifications': '内部验证',
  'report.qualityChecks': '质量检查',
  'report.satisfaction': '业主满意度',
  'report.rated': '已调查业主',
  'report.satisfactionRate': '满意率',
  'report.escalations': '上报',
  'report.byLevel': '按级别',
  'report.byReason': '按原因',
  'report.recurring': '重复问题：同一户同类问题30天内再次发生',
  'report.groups': '问题数',
  'report.repeats': '重复工单',
  'report.unit': '户',
  'report.workOrders': '维修工作单',

  'alarmTitle.tank-level-low': '{deviceName} 水位过低：{value} mm（下限 {limit} mm）',
  'alarmTitle.tank-level-high': '{deviceName} 水位过高，有溢流风险：{value} mm（上限 {limit} mm）',
  'alarmTitle.device-offline': '{deviceName} 设备离线',
  'alarmTitle.water-leak': '{deviceName} 疑似漏水：近一小时用水 {value} m³（上限 {limit} m³）',
  'alarmTitle.meter-backwards': '{deviceName} 读数倒走（表计故障）',
  'alarmTitle.electric-overuse': '{deviceName} 用电异常：近一小时 {value} kWh（上限 {limit} kWh）',
  'alarmTitle.voltage-high': '{deviceName} 电压过高：{value} V（上限 {limit} V）',
  'alarmTitle.voltage-low': '{deviceName} 电压过低：{value} V（下限 {limit} V）',
  'alarmTitle.gas-overuse': '{deviceName} 燃气用量异常：近一小时 {value} m³（上限 {limit} m³）',
  'alarmTitle.fire-zone-alarm': '火警 {building} 报警区域 {instance}',
  'alarmTitle.fire-panel-fault': '{deviceName} 故障 {instance}',
  'alarmTitle.door-forced': '{deviceName} 被强行打开',
  'alarmTitle.door-held-open': '{deviceName} 长时间未关',
  'alarmTitle.emergency-call': '紧急呼叫 {deviceName}',
};

export const LABELS: Readonly<Record<Language, Readonly<Record<LabelKey, string>>>> = { 'zh-CN': ZH, en: EN };

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function isLabelKey(key: string): key is LabelKey {
  return Object.hasOwn(EN, key);
}

/** `{name}` in a label replaced by a value. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
}

/**
 * The title template of a default rule in both languages (`alarmTitle.<rule id>`), which the rules
 * fill in when they raise an alarm, and which titles its work order.
 */
export function alarmTitle(ruleId: string): { en: string; zh: string } {
  const key = `alarmTitle.${ruleId}`;
  if (!isLabelKey(key)) throw new Error(`no alarm title ${key} in the label catalogue`);
  return { en: LABELS.en[key], zh: LABELS['zh-CN'][key] };
}

/** The label of `group.value` (e.g. `ticketState`, `open`); undefined when the catalogue has none (a rule the site file added). */
export function label(language: Language, group: string, value: string): string | undefined {
  const key = `${group}.${value}`;
  return isLabelKey(key) ? LABELS[language][key] : undefined;
}
