-- A directory sync asks, for each row, whether a change of that mailbox waits or was refused
-- already (src/access/mailbox-ownership.ts filedFor, filedRow): by mailbox, however old the
-- change. It read the latest 500 changes for every row instead, and a refusal older than those
-- was filed again.
CREATE INDEX ownership_change_mailbox ON ownership_change(mailbox);
