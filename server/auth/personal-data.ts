import type { UserRole } from './roles.ts';

/** Fields that carry an owner's or caller's name and phone number (a work order's `reporter`). */
export const PERSONAL_FIELDS: ReadonlySet<string> = new Set(['reporter']);

/** Viewers (a wall screen, a visitor) see the estate, not who called about it. */
export function mayReadPersonalData(role: UserRole | string): boolean {
  return role !== 'viewer';
}

/** A copy of `value` with every personal field, at any depth, set to null. */
export function withoutPersonalData<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutPersonalData(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Buffer) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = PERSONAL_FIELDS.has(k) && v !== null && v !== undefined ? null : withoutPersonalData(v);
  return out as T;
}
