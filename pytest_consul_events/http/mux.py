"""Request routing as Go's ``http.ServeMux`` does it for Consul's registered patterns.

A pattern ending in ``/`` matches its whole subtree, any other pattern only itself, and the
longest pattern wins. As in Go 1.22 and later (what current Consul is built with), the
*escaped* path is cleaned: when cleaning changes it (``//``, ``/./``, ``/../``) the answer is a
``301 Moved Permanently`` to ``url.URL{Path: cleaned}.String()``, which escapes the already
escaped path once more (``%3F`` becomes ``%253F``); an escaped slash (``%2F``) is no separator.
A request for a subtree's root without its slash (``/v1/event/fire``) is redirected to it.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Generic, TypeVar

from pytest_consul_events.gocompat.query import escape_path

H = TypeVar("H")


@dataclasses.dataclass(frozen=True)
class Route(Generic[H]):
    """A registered pattern, the methods it allows, and its handler."""

    pattern: str
    methods: tuple[str, ...]
    handler: H

    @property
    def allow(self) -> str:
        """The ``Allow`` header Consul sends for this endpoint: ``OPTIONS`` then its methods."""
        return ",".join(("OPTIONS", *self.methods))


@dataclasses.dataclass(frozen=True)
class Redirect:
    """A 301 to ``location`` (the clean path, with the query kept)."""

    location: str


def clean_path(path: str) -> str:
    """Go's ``cleanPath``: ``path.Clean`` of a rooted path, keeping a trailing slash."""
    if path.startswith("/") and "//" not in path and "/." not in path:
        return path  # already clean: the common case, without normpath's work
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


class Mux(Generic[H]):
    """Longest-pattern routing with Go's redirects; unmatched paths get ``None``."""

    def __init__(self) -> None:
        self._exact: dict[str, Route[H]] = {}
        self._subtrees: list[Route[H]] = []

    def add(self, pattern: str, methods: tuple[str, ...], handler: H) -> None:
        """Register ``handler`` for ``pattern`` (a subtree when it ends in ``/``)."""
        route = Route(pattern, methods, handler)
        self._exact[pattern] = route
        if pattern.endswith("/"):
            self._subtrees.append(route)
            self._subtrees.sort(key=lambda r: len(r.pattern), reverse=True)

    def match(self, path: str, escaped: str, raw_query: str) -> Route[H] | Redirect | None:
        """Find the route for a request, or the redirect Go's mux answers with instead.

        ``path`` is the decoded path, ``escaped`` the path as Go's ``URL.EscapedPath`` gives it.
        """
        cleaned = clean_path(escaped)
        if cleaned not in self._exact and cleaned + "/" in self._exact:
            return Redirect(_with_query(escape_path(cleaned + "/"), raw_query))
        if cleaned != escaped:
            return Redirect(_with_query(escape_path(cleaned), raw_query))
        route = self._exact.get(path)
        if route is not None:
            return route
        for route in self._subtrees:
            if path.startswith(route.pattern):
                return route
        return None


def _with_query(path: str, raw_query: str) -> str:
    return f"{path}?{raw_query}" if raw_query else path


_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
"""Go's ``htmlReplacer`` in net/http."""


def redirect_body(location: str, method: str) -> tuple[bytes, str | None]:
    """Body and content type of Go's ``http.Redirect``: a link for GET, nothing otherwise."""
    if method == "GET":
        link = location.translate(_HTML_ESCAPES)
        return (f'<a href="{link}">Moved Permanently</a>.\n\n').encode(), (
            "text/html; charset=utf-8"
        )
    if method == "HEAD":
        return b"", "text/html; charset=utf-8"
    return b"", None
