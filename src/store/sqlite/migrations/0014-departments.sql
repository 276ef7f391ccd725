-- Departments: a directory attribute of mailboxes (the directory's `department` column), and the
-- retention rules that match mail by it, as they match by sensitivity. A rule kept before this
-- matches any department.
ALTER TABLE mailbox ADD COLUMN department TEXT;
ALTER TABLE retention_rule ADD COLUMN departments TEXT NOT NULL DEFAULT '[]';   -- JSON array of mailbox.department values; [] = any
