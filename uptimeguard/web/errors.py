"""JSON errors and the middleware that turns known exceptions into 400/404/409, and a
database that cannot serve now (disk full, I/O error, server gone) into 503 with
`Retry-After`."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from uptimeguard.incidents.errors import Conflict, IncidentError, NotFound
from uptimeguard.logs import malformed_reason
from uptimeguard.storage.unavailable import unavailable_reason

log = logging.getLogger(__name__)

# What a client is told to wait before retrying a request the database could not take.
RETRY_AFTER_SECONDS = 30


class BadRequest(ValueError):
    """A request body or parameter a client must fix (HTTP 400)."""


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Conflict as error:
        return json_error(409, str(error))
    except (BadRequest, IncidentError) as error:
        return json_error(400, str(error))
    except NotFound as error:
        return json_error(404, str(error))
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "request body too large")
    except web.HTTPException as error:
        if error.status >= 400 and request.path.startswith(("/api/", "/twilio/")):
            # Keep the headers aiohttp set (e.g. `Allow` on a 405).
            kept = {k: v for k, v in error.headers.items() if k.lower() != "content-type"}
            return json_error(error.status, error.reason, kept)
        raise
    except json.JSONDecodeError:
        return json_error(400, "body is not valid JSON")
    except (HttpProcessingError, RequestPayloadError) as error:
        # The body as sent cannot be read: not in the Content-Encoding it claims, above all.
        # The connection is closed, and the body marked as ended: what is left of it cannot
        # be read either (aiohttp would try, after the answer, and log a traceback).
        request.content.feed_eof()
        said = malformed_reason(error)
        response = json_error(400, f"the request body cannot be read: {said}")
        response.force_close()
        return response
    except Exception as error:
        reason = unavailable_reason(error)
        if reason is None:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return json_error(500, "internal error (see the server log)")
        log.error("database unavailable on %s %s: %s", request.method, request.path, reason)
        return json_error(
            503,
            f"database unavailable ({reason}): retry later",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
