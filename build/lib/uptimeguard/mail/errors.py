"""What went wrong handing a message over, and whether trying again can help."""

from __future__ import annotations


class DeliveryError(Exception):
    """The message was not handed over.

    `permanent`: retrying cannot help (a refused address, a 4xx from a webhook receiver).
    `maybe_taken`: the server may have the message even so (the connection died after the
    whole message was written and before the server's answer); it is never sent again.
    """

    def __init__(self, cause: str, permanent: bool = False, maybe_taken: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause[:300]
        self.permanent = permanent
        self.maybe_taken = maybe_taken
