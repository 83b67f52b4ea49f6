import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LABELS, LANGUAGES } from '../../../common/i18n/labels.ts';
import { StringEnum, errors } from '../schemas/common.ts';

const Catalogue = Type.Record(Type.String(), Type.String(), { description: 'label key (`group.value`, e.g. `ticketState.open`) to text' });

/** The catalogue of domain labels (common/i18n/labels.ts) in Simplified Chinese and English; public, as the login page needs it. */
export const labelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/labels',
    {
      config: { public: true },
      schema: {
        tags: ['estate'],
        summary: 'Domain labels (categories, states, actions, roles, alarm states, device kinds, rules) in zh-CN and en',
        querystring: Type.Object({ lang: Type.Optional(StringEnum(LANGUAGES, { description: 'one language; default both' })) }),
        response: {
          200: Type.Object({ languages: Type.Array(StringEnum(LANGUAGES)), labels: Type.Record(Type.String(), Catalogue) }),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const languages = request.query.lang ? [request.query.lang] : [...LANGUAGES];
      return { languages, labels: Object.fromEntries(languages.map((l) => [l, LABELS[l]])) };
    },
  );
};
