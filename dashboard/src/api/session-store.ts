import type { Session } from '../types.ts';

const KEY = 'fm.session';

/** The login survives a reload of the wall screen until its token expires. */
export function loadSession(storage: Storage, now: number): Session | undefined {
  try {
    const s = JSON.parse(storage.getItem(KEY) ?? 'null') as Session | null;
    if (s && typeof s.token === 'string' && s.expiresAt > now) return s;
  } catch {
    // A damaged entry is a logged-out screen.
  }
  storage.removeItem(KEY);
  return undefined;
}

export function saveSession(storage: Storage, session: Session | undefined): void {
  if (session) storage.setItem(KEY, JSON.stringify(session));
  else storage.removeItem(KEY);
}
