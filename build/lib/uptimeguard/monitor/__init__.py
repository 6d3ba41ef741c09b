"""The monitor: scheduling, the confirm/recover rules, maintenance windows."""
