"""Errors storage raises for a person to act on."""


class DatabaseUnusable(Exception):
    """The database named cannot be used as asked: one line saying where and why."""
