import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { SiteConfig } from '../../../common/site/types.ts';
import { ROLES, type UserRole } from '../../auth/roles.ts';
import { badRequest, emptyBodyIsEmptyObject } from '../../http/http-error.ts';
import {
  CALLBACK_METHODS,
  WORK_ORDER_CATEGORIES,
  CALLBACK_OUTCOMES,
  QUALITY_CHECK_RESULTS,
  VERIFICATION_RESULTS,
  WORK_ORDER_COST_MAX,
  WORK_ORDER_PAGE,
  WORK_ORDER_TEXT_MAX,
  type ActionPayloads,
  type EscalationLevel,
  type WorkOrderAction,
  type WorkOrderEvent,
  type WorkOrderFilter,
} from '../../work-orders/types.ts';
import { AUTH_ERRORS, EpochMs, IdParam, NonBlank, Nullable, StringEnum, errors } from '../schemas/common.ts';
import { Comment, ComplaintType, Satisfaction, Ticket, TicketCategory, TicketChange, TicketPriority, TicketSource, TicketState, TicketWithTimeline } from '../schemas/work-order.ts';

const CreateTicket = Type.Object(
  {
    source: Type.Optional(
      StringEnum(['manual', 'complaint', 'inspection', 'handover'] as const, {
        description: 'manual: an owner\'s repair request (报修); complaint: the service-quality line (reply within 72 h); inspection: a finding on a patrol (verified internally); handover: a defect found at handover',
      }),
    ),
    sourceRef: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place, description: 'the inspection task or handover defect it comes from' })),
    category: Type.Optional(TicketCategory),
    priority: Type.Optional(TicketPriority),
    title: NonBlank({ maxLength: WORK_ORDER_TEXT_MAX.title }),
    detail: Type.Optional(Type.String({ maxLength: WORK_ORDER_TEXT_MAX.detail })),
    building: Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place, description: 'building id of the site file' }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place, description: 'unit id of that building' })),
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place })),
    reporter: Type.Optional(Type.String({ maxLength: WORK_ORDER_TEXT_MAX.reporter, description: 'owner or caller (name, phone), for the callback' })),
    peopleTrapped: Type.Optional(Type.Boolean({ description: 'lift only: people are trapped (困人); the ticket is critical and the emergency team is paged' })),
    complaintType: Type.Optional(ComplaintType),
    comment: Comment,
  },
  { additionalProperties: false },
);

const ListQuery = Type.Object({
  state: Type.Optional(Type.Array(TicketState, { description: 'repeat for several' })),
  category: Type.Optional(Type.Array(TicketCategory, { description: 'repeat for several' })),
  source: Type.Optional(TicketSource),
  building: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place })),
  unit: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place })),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: WORK_ORDER_TEXT_MAX.place })),
  overdue: Type.Optional(Type.Boolean({ description: 'true: past a response or callback deadline now' })),
  assignee: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('me')], { description: 'user id, or `me`' })),
  team: Type.Optional(Type.Integer({ minimum: 1, description: 'assigned team id' })),
  escalated: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: 'escalated to at least this level' })),
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WORK_ORDER_PAGE.maxLimit, default: WORK_ORDER_PAGE.defaultLimit })),
});

const TicketPage = Type.Object({ items: Type.Array(Ticket), total: Type.Integer(), page: Type.Integer(), limit: Type.Integer() });

const CommentOnly = Type.Object({ comment: Comment }, { additionalProperties: false });

/** Body schema, roles and summary of each action (domain rules 3, 4 and 9: who checks, replies, calls back and escalates). */
const ACTIONS: { [A in WorkOrderAction]: { body: ReturnType<typeof Type.Object>; roles: readonly UserRole[]; summary: string } } = {
  acknowledge: { body: CommentOnly, roles: ROLES.workTicket, summary: 'Acknowledge, take the job (签领; meets the response deadline)' },
  assign: {
    body: Type.Object(
      {
        userId: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
        teamId: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
        comment: Comment,
      },
      { additionalProperties: false, description: 'userId and/or teamId; null clears that side' },
    ),
    roles: ROLES.workTicket,
    summary: 'Assign to a user and/or team',
  },
  start: { body: CommentOnly, roles: ROLES.workTicket, summary: 'Start the work' },
  resolve: {
    body: Type.Object(
      {
        comment: Comment,
        item: Type.Optional(Type.String({ maxLength: WORK_ORDER_TEXT_MAX.item, description: 'what was repaired' })),
        cost: Type.Optional(Type.Number({ minimum: 0, maximum: WORK_ORDER_COST_MAX, multipleOf: 0.01, description: 'cost in currency units, at most 2 decimals' })),
        leakTestAt: Type.Optional(EpochMs('water-leak only: when the leak test was done (starts the 3-day callback clock)')),
      },
      { additionalProperties: false },
    ),
    roles: ROLES.workTicket,
    summary: 'Resolve (starts the callback clock; leak repairs wait for the leak test)',
  },
  'leak-test': {
    body: Type.Object({ leakTestAt: EpochMs('when the leak test was done'), comment: Comment }, { additionalProperties: false }),
    roles: ROLES.workTicket,
    summary: 'Record the leak test (试漏) of a resolved water-leak ticket (callback due 3 days after it)',
  },
  'quality-check': {
    body: Type.Object(
      { result: StringEnum(QUALITY_CHECK_RESULTS, { description: 'fail sends the ticket back to the repair team' }), comment: Comment },
      { additionalProperties: false },
    ),
    roles: ROLES.workTicket,
    summary: 'Quality check (质量检查) of the repair, by someone other than who repaired it; before the callback or verification',
  },
  reply: {
    body: Type.Object({ comment: NonBlank({ maxLength: WORK_ORDER_TEXT_MAX.comment, description: 'what the complainant was told' }) }, { additionalProperties: false }),
    roles: ROLES.customerService,
    summary: 'Reply (回复) to a complaint; the first reply, interim or final, meets the 72-hour deadline',
  },
  callback: {
    body: Type.Object(
      {
        outcome: StringEnum(CALLBACK_OUTCOMES, { description: 'problem sends the ticket back to the repair team and escalates it; not-home tries again' }),
        satisfaction: Type.Optional(Satisfaction),
        method: Type.Optional(StringEnum(CALLBACK_METHODS, { description: 'by phone (default) or a visit' })),
        retryAt: Type.Optional(EpochMs('not-home: when to try again (default a day later), moved into the callback window')),
        comment: Comment,
      },
      { additionalProperties: false, description: 'satisfaction is required when the owner was reached' },
    ),
    roles: ROLES.customerService,
    summary: 'Record the callback (回访) to the owner, by customer service, never by who repaired it',
  },
  verify: {
    body: Type.Object(
      { result: StringEnum(VERIFICATION_RESULTS, { description: 'problem sends the ticket back to the repair team' }), comment: Comment },
      { additionalProperties: false },
    ),
    roles: ROLES.workTicket,
    summary: 'Verify internally the repair of a ticket with no owner (an alarm, an inspection finding), instead of a callback',
  },
  escalate: {
    body: Type.Object({ comment: NonBlank({ maxLength: WORK_ORDER_TEXT_MAX.comment, description: 'why the team cannot solve it' }) }, { additionalProperties: false }),
    roles: ROLES.staff,
    summary: 'Escalate one level: a supervisor, then the estate manager, then the property manager',
  },
  close: { body: CommentOnly, roles: ROLES.staff, summary: 'Close after the callback or the verification' },
  reopen: { body: CommentOnly, roles: ROLES.workTicket, summary: 'Reopen (fresh response and callback deadlines; a complaint keeps its reply deadline)' },
};

export const ticketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const names = async (): Promise<Map<number, string>> => new Map((await app.users.list()).map((u) => [u.id, u.displayName]));
  const entry = (e: WorkOrderEvent, byName: Map<number, string>) => ({ ...e, byName: e.by === null ? null : (byName.get(e.by) ?? null) });

  app.get(
    '/tickets',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['tickets'],
        summary: 'List tickets, newest first',
        querystring: ListQuery,
        response: { 200: TicketPage, ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const q = request.query;
      const filter: WorkOrderFilter = { page: q.page ?? 1, limit: q.limit ?? WORK_ORDER_PAGE.defaultLimit };
      if (q.state) filter.state = q.state;
      if (q.category) filter.category = q.category;
      if (q.source) filter.source = q.source;
      if (q.building) filter.building = q.building;
      if (q.unit) filter.unit = q.unit;
      if (q.deviceId) filter.deviceId = q.deviceId;
      if (q.overdue !== undefined) filter.overdue = q.overdue;
      if (q.assignee !== undefined) filter.assigneeUserId = q.assignee === 'me' ? request.user!.userId : q.assignee;
      if (q.team !== undefined) filter.assigneeTeamId = q.team;
      if (q.escalated !== undefined) filter.escalatedTo = q.escalated as EscalationLevel;
      return app.workOrderQueries.list(filter);
    },
  );

  app.post(
    '/tickets',
    {
      config: { roles: ROLES.createTicket },
      schema: {
        tags: ['tickets'],
        summary: 'Record a ticket: a repair request (报修), a complaint, an inspection finding or a handover defect',
        body: CreateTicket,
        response: { 201: TicketWithTimeline, ...errors(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const source = b.source ?? 'manual';
      const category = b.category ?? (source === 'complaint' ? 'complaint' : undefined);
      if (!category) throw badRequest('category', `is required for a ${source} ticket (${WORK_ORDER_CATEGORIES.filter((c) => c !== 'complaint').join(', ')})`);
      checkPlace(app.site, b);
      const { workOrder } = await app.workOrders.create({
        source,
        category,
        priority: b.priority ?? 'medium',
        title: b.title,
        building: b.building,
        createdBy: request.user!.userId,
        ...(b.detail !== undefined && { detail: b.detail }),
        ...(b.unit !== undefined && { unit: b.unit }),
        ...(b.deviceId !== undefined && { deviceId: b.deviceId }),
        ...(b.reporter !== undefined && { reporter: b.reporter }),
        ...(b.sourceRef !== undefined && { sourceRef: b.sourceRef }),
        ...(b.peopleTrapped !== undefined && { peopleTrapped: b.peopleTrapped }),
        ...(b.complaintType !== undefined && { complaintType: b.complaintType }),
        ...(b.comment !== undefined && { comment: b.comment }),
      });
      const full = await app.workOrderQueries.get(workOrder.id);
      const byName = await names();
      return reply.code(201).send({ ...full, timeline: full.timeline.map((e) => entry(e, byName)) });
    },
  );

  app.get(
    '/tickets/:id',
    {
      config: { roles: ROLES.read },
      schema: {
        tags: ['tickets'],
        summary: 'One ticket with its timeline (who did what, when, with which comment)',
        params: IdParam,
        response: { 200: TicketWithTimeline, ...errors(400, 404, ...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const full = await app.workOrderQueries.get(request.params.id);
      const byName = await names();
      return { ...full, timeline: full.timeline.map((e) => entry(e, byName)) };
    },
  );

  for (const action of Object.keys(ACTIONS) as WorkOrderAction[]) {
    const spec = ACTIONS[action];
    app.post(
      `/tickets/:id/${action}`,
      {
        config: { roles: spec.roles },
        preValidation: emptyBodyIsEmptyObject,
        schema: {
          tags: ['tickets'],
          summary: spec.summary,
          params: IdParam,
          body: spec.body,
          response: { 200: TicketChange, ...errors(400, 404, 409, ...AUTH_ERRORS) },
        },
      },
      async (request) => {
        const body = request.body as ActionPayloads[typeof action];
        if (action === 'assign') {
          const a = body as { userId?: unknown; teamId?: unknown };
          if (a.userId === undefined && a.teamId === undefined) throw badRequest('userId', 'give userId or teamId (null clears one)');
        }
        const change = await app.workOrders.act(request.params.id, action, request.user!.userId, body);
        return { ticket: change.workOrder, event: entry(change.event, await names()) };
      },
    );
  }
};

function checkPlace(site: SiteConfig, b: Static<typeof CreateTicket>): void {
  const building = site.buildings.find((x) => x.id === b.building);
  if (!building) throw badRequest('building', `no building ${b.building} in this estate (known: ${site.buildings.map((x) => x.id).join(', ')})`);
  if (b.unit !== undefined && !building.units.some((u) => u.id === b.unit)) throw badRequest('unit', `no unit ${b.unit} in building ${b.building}`);
  if (b.deviceId !== undefined && !building.devices.some((d) => d.id === b.deviceId)) throw badRequest('deviceId', `no device ${b.deviceId} in building ${b.building}`);
}
