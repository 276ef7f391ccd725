import { createContext, useContext } from 'react';

export type Role = 'owner' | 'requester' | 'approver' | 'auditor' | 'admin' | 'records' | 'breakglass';

// GET /api/v1/me, what every page is given.
export interface Me {
  name: string;
  displayName: string | null;
  roles: Role[];
  mailboxes: string[];
  via: 'session' | 'token';
  mustAcknowledgeNotice: boolean;  // then GET /api/v1/notice has its text
}

export interface SessionValue {
  me: Me;
  signOut: () => Promise<void>;
  refresh: () => Promise<void>;
  // My unread notices (GET /api/v1/me/notifications), shown in the navigation.
  unread: number;
  setUnread: (n: number) => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}

export const hasRole = (me: Me, roles: readonly Role[]) => me.roles.some((r) => roles.includes(r));
