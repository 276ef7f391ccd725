-- The ledger tree's interior (ledger/stored-tree.ts): the root of each perfect subtree of 64
-- leaves or more, kept as its last leaf is appended, so that a root or a proof at any size reads
-- O(log n) of them instead of every leaf hash. Derived from the leaves: verify checks them.
-- A ledger begun before this is filled in when a writer opens it (Ledger.open).
CREATE TABLE ledger_node (
  level smallint NOT NULL,              -- the subtree holds 2^level leaves
  idx bigint NOT NULL,                  -- from leaf idx * 2^level on
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
