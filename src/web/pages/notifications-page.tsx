import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { MyHolds } from '../my-holds.tsx';
import { PageTitle } from '../page-title.tsx';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

interface Notification {
  id: number;
  kind: string;
  subject: string;
  body: string;
  arrivedAt: string;
  readAt: string | null;
}

// My notices: requests awaiting my decision, access to my mailbox, decisions on my requests…
// the same notices Sealbox mails, here even when mail is not delivered. Showing them marks them
// read; the ones that were new stay marked "new" until the page is left.
export function NotificationsPage() {
  const { setUnread } = useSession();
  const r = useLoad(() => api.get<{ unread: number; notifications: Notification[] }>('/api/v1/me/notifications'), []);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const unread = r.data?.notifications.filter((n) => n.readAt === null).map((n) => n.id) ?? [];
    if (unread.length === 0) return;
    api.post<{ unread: number }>('/api/v1/me/notifications/read', { ids: unread }).then((done) => setUnread(done.unread), setError);
  }, [r.data, setUnread]);
  return (
    <>
      <PageTitle>Notifications</PageTitle>
      <p className="muted">What Sealbox tells you: requests waiting for your decision, access to your mailbox, decisions on your requests. Each is also mailed to you when mail is set up.</p>
      <MyHolds />
      {r.loading && <Loading what="notifications" />}
      <ErrorNote error={r.error ?? error} />
      {r.data && r.data.notifications.length === 0 && <p>You have no notifications.</p>}
      {r.data && r.data.notifications.length > 0 && (
        <ul className="inbox" data-testid="notifications">
          {r.data.notifications.map((n) => (
            <li key={n.id} className={`card${n.readAt === null ? ' unread' : ''}`}>
              <h2>{n.readAt === null && <strong>New: </strong>}{n.subject}</h2>
              <p className="muted">{when(n.arrivedAt)}</p>
              <pre>{n.body}</pre>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
