"""Several nodes on one PostgreSQL database: no single point of failure, several vantage
points, one decision. See docs/CLUSTER.md.

- `node`: this node's row and heartbeat on the database clock, who else is alive, the leader
  lock (session-level advisory locks on a connection of its own), notifications (LISTEN).
- `membership`, `hrw`, `handover` (pure): who is alive at an instant, which live node of a
  location probes a site (rendezvous hashing), when a node taking a site over probes it.
- `ownership`: this node's share, kept up to date as nodes come and go.
- `leader`: what runs once in the whole cluster, on the leader only.
- `sqlite_lock`: on SQLite, one node per database file.
- `views`, `metrics`: what `GET /api/v1/nodes`, `uptimeguard nodes` and `/metrics` show.
"""
