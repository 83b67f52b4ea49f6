import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DEFAULT_LANGUAGE, LANGUAGES } from '../../../common/i18n/labels.ts';
import { ROLES } from '../../auth/roles.ts';
import { reportCsv } from '../../reports/report-csv.ts';
import { reportHtml } from '../../reports/report-html.ts';
import { monthOf } from '../../work-orders/callback-window.ts';
import { AUTH_ERRORS, StringEnum, errors } from '../schemas/common.ts';
import { MonthlyReportSchema } from '../schemas/report.ts';

const FORMATS = ['json', 'csv', 'html'] as const;

/** The monthly statistics of the estate for the manager (domain rule 7), as JSON, CSV or a printable page. */
export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/reports/monthly',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['reports'],
        summary: 'Monthly statistics: response, complaint replies, callbacks, verification, satisfaction, escalations, recurring problems',
        querystring: Type.Object({
          month: Type.Optional(Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM in the estate time zone; default the current month' })),
          format: Type.Optional(StringEnum(FORMATS, { description: 'json (default), csv (a spreadsheet), html (a page to print)' })),
          lang: Type.Optional(StringEnum(LANGUAGES, { description: 'labels of csv and html; default zh-CN' })),
        }),
        produces: ['application/json', 'text/csv', 'text/html'],
        response: { 200: MonthlyReportSchema, ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const { timezone, id, name } = app.site.site;
      // Text bodies are sent as they are; the schema describes the JSON.
      const month = request.query.month ?? monthOf(app.clock(), timezone);
      const report = await app.workOrderQueries.monthly(month, { id, name, timezone });
      const language = request.query.lang ?? DEFAULT_LANGUAGE;
      switch (request.query.format ?? 'json') {
        case 'csv':
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="work-orders-${id}-${month}.csv"`)
            .send(reportCsv(report, language) as never);
        case 'html':
          return reply.type('text/html; charset=utf-8').send(reportHtml(report, language) as never);
        default:
          return report;
      }
    },
  );
};
