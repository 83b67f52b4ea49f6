import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ACTION_ROLES, TICKET_ACTION_ROLES, ticketActionsFor } from '../dashboard/src/permissions.ts';
import { smallSite, startTestServer, type TestServer } from './harness/server-app.ts';

/** The roles each route declares, from the OpenAPI document ("Roles: a, b."). */
function declaredRoles(doc: { paths: Record<string, Record<string, { description?: string }>> }, path: string): string[] {
  const description = doc.paths[path]?.post?.description ?? '';
  const m = /Roles: ([^.]+)\./.exec(description);
  return m ? m[1]!.split(',').map((s) => s.trim()).sort() : [];
}

describe('dashboard action buttons follow the roles the server enforces', () => {
  let server: TestServer;
  let doc: { paths: Record<string, Record<string, { description?: string }>> };

  beforeAll(async () => {
    server = await startTestServer({ site: smallSite(true) });
    doc = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(Object.entries(TICKET_ACTION_ROLES))('ticket action %s', (action, roles) => {
    expect([...roles].sort()).toEqual(declaredRoles(doc, `/api/tickets/{id}/${action}`));
  });

  it.each(Object.entries(ALARM_ACTION_ROLES))('alarm action %s', (action, roles) => {
    expect([...roles].sort()).toEqual(declaredRoles(doc, `/api/alarms/{id}/${action}`));
  });

  it('offers a role only the actions the ticket state allows and the role may take', () => {
    expect(ticketActionsFor('service-desk', ['acknowledge', 'assign', 'start'])).toEqual([]);
    expect(ticketActionsFor('service-desk', ['callback', 'reopen'])).toEqual(['callback']);
    expect(ticketActionsFor('engineer', ['callback', 'reopen'])).toEqual(['reopen']);
    expect(ticketActionsFor('engineer', ['quality-check', 'verify', 'reply'])).toEqual(['quality-check', 'verify']);
    expect(ticketActionsFor('service-supervisor', ['reply', 'escalate', 'verify'])).toEqual(['reply', 'escalate']);
    expect(ticketActionsFor('viewer', ['acknowledge', 'callback', 'close'])).toEqual([]);
  });
});
