import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AlarmActionError, MAX_SHELVE_MS, type AlarmHistoryQuery } from '../../alarms/alarm.ts';
import { DEFAULT_REPORT_POLICY } from '../../alarms/alarm-report.ts';
import { renderReportPage } from '../../alarms/report-page.ts';
import { ROLES } from '../../auth/roles.ts';
import { HttpError, badRequest, emptyBodyIsEmptyObject } from '../../http/http-error.ts';
import { parseTime } from '../../http/time-params.ts';
import { AlarmBody, AlarmCategory, AlarmReportBody, AlarmState } from '../schemas/alarm.ts';
import { AUTH_ERRORS, EpochMs, StringEnum, errors } from '../schemas/common.ts';

const STATUS: Record<AlarmActionError['code'], number> = { 'not-found': 404, invalid: 400, conflict: 409 };

/** AlarmService refusals as HTTP answers. */
async function act<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AlarmActionError) throw new HttpError(STATUS[err.code], err.message);
    throw err;
  }
}

const AlarmId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

const ListQuery = Type.Object({
  history: Type.Optional(StringEnum(['1', 'true', '0', 'false'] as const, { description: '1 or true: every alarm, closed ones too, newest first; else the open alarms, most severe first' })),
  building: Type.Optional(Type.String({ minLength: 1 })),
  device: Type.Optional(Type.String({ minLength: 1 })),
  category: Type.Optional(AlarmCategory),
  state: Type.Optional(AlarmState),
  from: Type.Optional(Type.String({ description: 'history: raised at or after (epoch ms or ISO 8601)' })),
  to: Type.Optional(Type.String({ description: 'history: raised before (epoch ms or ISO 8601)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'history: default 100' })),
  suppressed: Type.Optional(StringEnum(['hide', 'only', 'include'] as const, { description: 'open alarms suppressed by their cause (recorded, not announced): hide (default), only, include' })),
});

const ReportQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'epoch ms or ISO 8601; default: 24 hours before `to`' })),
  to: Type.Optional(Type.String({ description: 'epoch ms or ISO 8601; default: now' })),
});

const DAY_MS = 24 * 3_600_000;
/** Longest period one report covers. */
const REPORT_MAX_MS = 366 * DAY_MS;

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/alarms',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['alarms'],
        summary: 'Open alarms (active, or returned to normal and unacknowledged); with history=1 the alarm history',
        querystring: ListQuery,
        response: { 200: Type.Array(AlarmBody), ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      if (q.history !== '1' && q.history !== 'true') {
        for (const f of ['from', 'to', 'limit'] as const) if (q[f] !== undefined) throw badRequest(f, 'applies to the history: add history=1');
        const open = app.alarms.listActive({
          ...(q.suppressed !== undefined && { suppressed: q.suppressed }),
          ...(q.building !== undefined && { building: q.building }),
          ...(q.device !== undefined && { device: q.device }),
          ...(q.category !== undefined && { category: q.category }),
        });
        return q.state === undefined ? open : open.filter((a) => a.state === q.state);
      }
      if (q.suppressed !== undefined) throw badRequest('suppressed', 'applies to the open alarms: leave out history');
      const query: AlarmHistoryQuery = {};
      if (q.from !== undefined) query.from = parseTime('from', q.from);
      if (q.to !== undefined) query.to = parseTime('to', q.to);
      if (query.from !== undefined && query.to !== undefined && query.from >= query.to) throw badRequest('from', 'must be before to');
      if (q.building !== undefined) query.building = q.building;
      if (q.device !== undefined) query.device = q.device;
      if (q.category !== undefined) query.category = q.category;
      if (q.state !== undefined) query.state = q.state;
      if (q.limit !== undefined) query.limit = q.limit;
      return app.alarms.history(query);
    },
  );

  /** The report's period from the query: [from, to), at most REPORT_MAX_MS. */
  const period = (q: { from?: string; to?: string }): { from: number; to: number } => {
    const to = q.to !== undefined ? parseTime('to', q.to) : app.clock();
    const from = q.from !== undefined ? parseTime('from', q.from) : to - DAY_MS;
    if (from >= to) throw badRequest('from', 'must be before to');
    if (to - from > REPORT_MAX_MS) throw badRequest('from', 'a report covers at most 366 days: move from or to');
    return { from, to };
  };

  app.get(
    '/alarms/report',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['alarms'],
        summary: 'The alarm-system report of a period (EEMUA 191, ISA-18.2 monitoring): alarm rate, floods, most frequent, chattering, fleeting and stale alarms, shelved, suppressed, alarms per work order',
        querystring: ReportQuery,
        response: { 200: AlarmReportBody, ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { from, to } = period(request.query);
      return app.alarms.report(from, to, await app.workOrderQueries.openedByAlarms(from, to));
    },
  );

  app.get(
    '/alarms/report/page',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['alarms'],
        summary: 'The alarm-system report as a printable HTML page',
        querystring: Type.Composite([ReportQuery, Type.Object({ lang: Type.Optional(StringEnum(['zh-CN', 'en'] as const, { description: 'default zh-CN' })) })]),
        produces: ['text/html'],
        response: { 200: Type.String({ description: 'HTML' }), ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const { from, to } = period(request.query);
      const report = await app.alarms.report(from, to, await app.workOrderQueries.openedByAlarms(from, to));
      const page = renderReportPage(report, {
        lang: request.query.lang ?? 'zh-CN',
        estate: { name: app.site.site.name, timezone: app.site.site.timezone },
        fleetingMs: DEFAULT_REPORT_POLICY.fleetingMs,
        staleMs: DEFAULT_REPORT_POLICY.staleMs,
      });
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );

  app.get(
    '/alarms/:id',
    {
      config: { roles: ROLES.read },
      schema: { tags: ['alarms'], summary: 'One alarm, open or closed', params: AlarmId, response: { 200: AlarmBody, ...errors(404, ...AUTH_ERRORS) } },
    },
    async (request) => {
      const alarm = await app.alarms.get(request.params.id);
      if (!alarm) throw new HttpError(404, `no alarm ${request.params.id}`);
      return alarm;
    },
  );

  app.post(
    '/alarms/:id/acknowledge',
    {
      config: { roles: ROLES.handleAlarm },
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge (ISA-18.2): active stays active; returned to normal closes',
        params: AlarmId,
        body: Type.Object({ comment: Type.Optional(Type.String({ maxLength: 4000 })) }, { additionalProperties: false }),
        response: { 200: AlarmBody, ...errors(400, 404, 409, ...AUTH_ERRORS) },
      },
    },
    async (request) => act(() => app.alarms.acknowledge(request.params.id, request.user!.username, request.body.comment, app.clock())),
  );

  app.post(
    '/alarms/:id/shelve',
    {
      config: { roles: ROLES.handleAlarm },
      schema: {
        tags: ['alarms'],
        summary: 'Shelve the alarm point for at most 24 hours, with a reason (no notifications meanwhile)',
        params: AlarmId,
        body: Type.Object(
          {
            reason: Type.String({ minLength: 1, maxLength: 500 }),
            until: Type.Optional(EpochMs('end of the shelf')),
            minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SHELVE_MS / 60_000, description: 'or: how long from now' })),
          },
          { additionalProperties: false, description: 'until or minutes' },
        ),
        response: { 200: AlarmBody, ...errors(400, 404, 409, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { reason, until, minutes } = request.body;
      if (until !== undefined && minutes !== undefined) throw badRequest('until', 'give until or minutes, not both');
      if (until === undefined && minutes === undefined) throw badRequest('until', 'give until (epoch ms) or minutes');
      if (!reason.trim()) throw badRequest('reason', 'must not be blank');
      const now = app.clock();
      const end = until ?? now + minutes! * 60_000;
      if (end <= now) throw badRequest('until', 'must be in the future');
      if (end - now > MAX_SHELVE_MS) throw badRequest(until !== undefined ? 'until' : 'minutes', 'an alarm can be shelved for at most 24 hours');
      return act(() => app.alarms.shelve(request.params.id, request.user!.username, reason, end, now));
    },
  );

  app.post(
    '/alarms/:id/unshelve',
    {
      config: { roles: ROLES.handleAlarm },
      schema: { tags: ['alarms'], summary: 'End a shelf early', params: AlarmId, response: { 200: AlarmBody, ...errors(404, 409, ...AUTH_ERRORS) } },
    },
    async (request) => act(() => app.alarms.unshelve(request.params.id, app.clock())),
  );
};
