import type { UserRole } from './roles.ts';

/** The demo estate's accounts (site.demo only), one per role, all with DEMO_PASSWORD: published, so nowhere else. */
export const DEMO_PASSWORD = 'demo-password';
export const DEMO_USERS: ReadonlyArray<{ username: string; displayName: string; role: UserRole }> = [
  { username: 'demo', displayName: 'Demo Administrator 演示管理员', role: 'administrator' },
  { username: 'demo-engineer', displayName: 'Demo Engineer 演示工程师', role: 'engineer' },
  { username: 'demo-desk', displayName: 'Demo Service Desk 演示客服', role: 'service-desk' },
  { username: 'demo-viewer', displayName: 'Demo Viewer 演示访客', role: 'viewer' },
  { username: 'demo-cs-supervisor', displayName: 'Demo Customer-Service Supervisor 演示客服部主管', role: 'service-supervisor' },
  { username: 'demo-eng-supervisor', displayName: 'Demo Engineering Supervisor 演示工程部主管', role: 'engineering-supervisor' },
  { username: 'demo-manager', displayName: 'Demo Estate Manager 演示项目经理', role: 'estate-manager' },
  { username: 'demo-property-manager', displayName: 'Demo Property Manager 演示物业经理', role: 'property-manager' },
];

const DEMO_NAMES = new Set(DEMO_USERS.map((u) => u.username.toLowerCase()));

/** Outside the demo estate: why a username or password may not be used, or undefined. */
export function demoCredentialProblem(field: 'username' | 'password', value: string): string | undefined {
  if (field === 'password' && value.normalize('NFKC') === DEMO_PASSWORD) return 'is the published demo password; choose another';
  if (field === 'username' && DEMO_NAMES.has(value.toLowerCase())) return 'is a demo account name, kept for the demo estate; choose another';
  return undefined;
}
