"""A checks file that would stop monitoring everything, or most of it, is refused unless
asked for: an empty or truncated file (a bad deploy, a half-written copy) would otherwise
silently stop every probe, take the status pages down and leave ACKs unanswered.

Asking for it: `uptimeguard run --allow-empty`, or `allow_empty: true` at the top of the file.
"""

from __future__ import annotations

from uptimeguard.config.models import ChecksConfig

HOW = "put `allow_empty: true` at the top of the file (or run with --allow-empty)"


def site_keys(config: ChecksConfig) -> set[tuple[str, str]]:
    return {ref.key for ref in config.site_refs()}


def start_refusal(config: ChecksConfig, allow_empty: bool) -> str | None:
    """Why the daemon must not start with `config`, or None."""
    if allow_empty or config.allow_empty or config.site_refs():
        return None
    return (
        f"{config.path}: no sites to monitor; add sites, or to run with none, "
        "pass --allow-empty (or put `allow_empty: true` at the top of the file)"
    )


def reload_refusal(running: ChecksConfig, new: ChecksConfig, allow_empty: bool) -> str | None:
    """Why a reload from `running` to `new` must be refused, or None.

    Refused: a file with no sites, and one that removes more than half of the running sites
    (by customer and site id) without putting as many in their place: a file that renames a
    customer, or swaps a few sites for many, still monitors as much as before.
    """
    if allow_empty or new.allow_empty:
        return None
    before, after = site_keys(running), site_keys(new)
    if not after:
        return (
            f"{new.path} has no sites (the running configuration has {len(before)}); "
            f"to stop monitoring every site, {HOW} and reload again"
        )
    removed = before - after
    if 2 * len(removed) <= len(before) or len(after) >= len(before):
        return None
    examples = ", ".join(f"{c}/{s}" for c, s in sorted(removed)[:3])
    more = ", ..." if len(removed) > 3 else ""
    return (
        f"{new.path} removes {len(removed)} of the {len(before)} running sites "
        f"({examples}{more}), more than half; if that is meant, {HOW} and reload again"
    )
