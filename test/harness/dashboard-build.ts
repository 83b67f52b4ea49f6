import { ensureDashboardBuilt } from '../../server/dashboard/dashboard-build.ts';

/** Vitest global setup: the browser tests and servers of every test file serve one up-to-date build. */
export default async function setup(): Promise<void> {
  await ensureDashboardBuilt();
}
