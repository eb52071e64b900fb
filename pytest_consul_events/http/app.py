"""The WSGI app: Consul's request pipeline in front of the endpoint handlers.

For every request, in Consul's order (agent/http.go): the printable-path check of go-cleanhttp
(400, empty body); Go's mux (clean-path and trailing-slash redirects, unknown paths to the index
handler's 404); then the ``wrap`` layer: ``X-Consul-Default-ACL-Policy`` and gzip's ``Vary``, the
query parsed by Go's rules (500, empty body, when it fails), ``OPTIONS`` answered with ``Allow``,
other methods not in the endpoint's list refused with 405; then the handler, whose JSON may be
pretty-printed (``?pretty`` or dev mode) and gzip-compressed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING

from pytest_consul_events import messages
from pytest_consul_events.gocompat.query import QueryError, escaped_path, parse_query
from pytest_consul_events.http import agent_endpoints, events, responses
from pytest_consul_events.http.call import BODY_KEY, Call
from pytest_consul_events.http.mux import Mux, Redirect, redirect_body
from pytest_consul_events.http.requestlog import (
    RequestLog,
    RequestRecord,
    redact_body,
    redact_query,
)
from pytest_consul_events.http.responses import Reply
from pytest_consul_events.model.agent import Agent

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from pytest_consul_events.gocompat.regexp import GoRegexp

Handler = Callable[[Call, Agent], Reply]
UNIMPLEMENTED_KEY = "consul_fake.unimplemented"
CONTROL_PREFIX = "/_fake/"
"""The fake's own control API (:mod:`pytest_consul_events.http.control`) answers under this
prefix, before Consul's pipeline and outside the request log. Consul serves no such path (its
index handler answers every path outside ``/v1/`` with a 404)."""


def _acl(name: str) -> Handler:
    """The ACL API's handler ``name``, whose module (and the ACL model behind it) is loaded on
    the first ACL request: most agents never get one."""

    def handler(call: Call, agent: Agent) -> Reply:
        from pytest_consul_events.http import acl_endpoints

        endpoint: Handler = getattr(acl_endpoints, name)
        return endpoint(call, agent)

    handler.__name__ = name
    return handler


ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    # agent/http_register.go: pattern, allowed methods, handler
    ("/v1/event/fire/", ("PUT",), events.fire),
    ("/v1/event/list", ("GET",), events.list_events),
    ("/v1/agent/self", ("GET",), agent_endpoints.agent_self),
    ("/v1/agent/members", ("GET",), agent_endpoints.agent_members),
    ("/v1/agent/services", ("GET",), agent_endpoints.agent_services),
    ("/v1/agent/service/register", ("PUT",), agent_endpoints.register_service),
    ("/v1/agent/service/deregister/", ("PUT",), agent_endpoints.deregister_service),
    ("/v1/status/leader", ("GET",), agent_endpoints.status_leader),
    ("/v1/status/peers", ("GET",), agent_endpoints.status_peers),
    ("/v1/acl/policies", ("GET",), _acl("list_policies")),
    ("/v1/acl/policy", ("PUT",), _acl("create_policy")),
    ("/v1/acl/policy/", ("GET", "PUT", "DELETE"), _acl("policy_by_id")),
    ("/v1/acl/tokens", ("GET",), _acl("list_tokens")),
    ("/v1/acl/token", ("PUT",), _acl("create_token")),
    ("/v1/acl/token/self", ("GET",), _acl("token_self")),
    ("/v1/acl/token/", ("GET", "PUT", "DELETE"), _acl("token_by_id")),
)


@functools.lru_cache(maxsize=1)
def _go_printable() -> GoRegexp:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space,
    # by Go's own Unicode tables (the regexp port carries them), not Python's.
    from pytest_consul_events.gocompat import regexp  # loaded by the first non-ASCII path

    return regexp.compile(r"\A[\pL\pM\pN\pP\pS ]*\z")


def _is_printable(path: str) -> bool:
    """go-cleanhttp's check of the decoded path: every rune printable by Go's rules."""
    if path.isascii():
        return path.isprintable()  # 0x20-0x7e, where Python and Go agree
    # Go decodes invalid UTF-8 as U+FFFD, which is printable; Python keeps it as surrogates.
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _go_printable().search(text)


class ConsulApp:
    """A WSGI app answering Consul's HTTP API for one agent.

    JSON bodies are pretty-printed with ``?pretty`` or when the agent is in dev mode.
    """

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.log = RequestLog()
        self._mux: Mux[Handler] = Mux()
        for pattern, methods, handler in ROUTES:
            self._mux.add(pattern, methods, handler)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            # Imported on the first control request: it loads werkzeug's routing.
            from pytest_consul_events.http import control

            return control.serve(self, environ, start_response)
        started = time.perf_counter()
        reply = self.handle(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        raw_query = environ.get("QUERY_STRING", "")
        query = redact_query(raw_query)
        self.log.append(
            RequestRecord(
                method=method,
                path=environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"),
                query=query,
                body=redact_body(environ.get("PATH_INFO", ""), environ.get(BODY_KEY, b"")),
                status=reply.status,
                duration=time.perf_counter() - started,
                token=bool(environ.get("HTTP_X_CONSUL_TOKEN") or environ.get("HTTP_AUTHORIZATION"))
                or query != raw_query,
                implemented=not environ.get(UNIMPLEMENTED_KEY, False),
            )
        )
        # Consul's header map: Go's server sorts it and adds Date, Content-Length and, for a
        # body with no Content-Type, the type it sniffs (server.py).
        headers = list(reply.headers)
        if reply.content_type is not None:
            headers.append(("Content-Type", reply.content_type))
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [reply.body]

    @staticmethod
    def _index(path: str) -> Reply:
        """Consul's ``Index`` handler, outside the wrapper: no Consul headers at all."""
        if path == "/":
            return responses.text(200, messages.UI_DISABLED)
        if "/v1/" in path:
            return responses.text(404, messages.INVALID_URL_PATH)
        return responses.text(404, messages.INVALID_URL_PATH_NO_V1)

    def handle(self, environ: WSGIEnvironment) -> Reply:
        """Answer one request; never raises for anything a client can send."""
        method = environ.get("REQUEST_METHOD", "GET")
        raw_path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        path = raw_path.encode("latin-1").decode("utf-8", "surrogateescape")
        if not _is_printable(path):
            return responses.empty(400)
        # WSGI carries the query as latin-1 text: back to its bytes, which may be raw UTF-8.
        raw_query = (
            environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "surrogateescape")
        )
        raw_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
        raw_path = raw_uri.partition("?")[0]
        if "://" in raw_path and not raw_path.startswith("/"):
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        route = self._mux.match(path, escaped_path(raw_path, path), raw_query)
        if route is None:
            environ[UNIMPLEMENTED_KEY] = path != "/"
            return self._index(path)
        if isinstance(route, Redirect):
            body, content_type = redirect_body(route.location, method)
            return Reply(301, body, content_type, [("Location", route.location)])

        wrapped = [
            (messages.HEADER_DEFAULT_ACL_POLICY, self.agent.default_acl_policy),
            (messages.HEADER_VARY, messages.VARY_ACCEPT_ENCODING),
        ]
        try:
            query = parse_query(raw_query)
        except QueryError:
            reply = responses.empty(500)
        else:
            if method == "OPTIONS":
                reply = responses.empty(200)
                reply.headers.append(("Allow", route.allow))
            elif method not in route.methods:
                reply = responses.text(405, messages.METHOD_NOT_ALLOWED.format(method=method))
                reply.headers.append(("Allow", route.allow))
            else:
                call = Call(
                    environ, method, path, query, self.agent.config.dev_mode or "pretty" in query
                )
                reply = responses.maybe_gzip(
                    route.handler(call, self.agent), environ.get("HTTP_ACCEPT_ENCODING")
                )
        reply.headers[:0] = wrapped
        return reply
