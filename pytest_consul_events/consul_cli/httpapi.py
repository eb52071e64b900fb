"""The parts of Consul's Go API client (``api/api.go``) and HTTP flags the event commands use.

* :func:`default_config` reads the environment as ``api.DefaultConfig`` does:
  ``CONSUL_HTTP_ADDR`` (default ``127.0.0.1:8500``), ``CONSUL_HTTP_TOKEN``,
  ``CONSUL_HTTP_TOKEN_FILE``, ``CONSUL_HTTP_AUTH`` (``user:password``), ``CONSUL_HTTP_SSL``,
  the TLS variables, ``CONSUL_NAMESPACE`` and ``CONSUL_PARTITION``. A ``CONSUL_HTTP_SSL`` that
  ``strconv.ParseBool`` rejects is logged as a warning, once per call, as Go does.
* :func:`new_client` applies ``api.NewClient``'s rules: an address may carry ``http://`` (kept
  plain), ``https://`` (switches to HTTPS) or ``unix://``; any other scheme is ``Unknown protocol
  scheme``; a path after ``http://host:port`` becomes a prefix of every request path; the token
  file wins over the token (``-token-file``, ``-token``, ``CONSUL_HTTP_TOKEN_FILE``,
  ``CONSUL_HTTP_TOKEN``, in that order).
* :class:`Client` sends requests the way Go's ``net/http`` does for these calls (query keys
  sorted and escaped as ``url.Values.Encode``, the path escaped as ``url.URL.EscapedPath``,
  ``Accept-Encoding: gzip`` with transparent decompression, keep-alive) and reports failures
  with Go's texts: ``Unexpected response code: 403 (Permission denied)`` for a non-200 answer,
  ``Get "http://127.0.0.1:1/v1/agent/self": dial tcp 127.0.0.1:1: connect: connection
  refused`` for a connection that fails.

Not implemented (each answers with :class:`NotImplementedByFake`, naming it): HTTPS and every
TLS setting, ``unix://`` sockets, and an HTTP proxy from the environment for a host that is not
loopback (Go's transport would use it).
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from pytest_consul_events import messages
from pytest_consul_events.consul_cli import goflag
from pytest_consul_events.consul_cli.errors import NotImplementedByFake
from pytest_consul_events.consul_cli.logs import log_line
from pytest_consul_events.consul_cli.ui import UI
from pytest_consul_events.gocompat.strconv import go_quote

Warn = Callable[[str], None]


class APIError(Exception):
    """A call failed; ``str()`` is the error text Consul's client would print."""


class Config:
    """``api.Config``: where and how to reach the agent.

    ``tls`` holds the TLS settings given, by setting: (where it came from, value).
    """

    def __init__(self) -> None:
        self.address = messages.API_DEFAULT_ADDRESS
        self.scheme = "http"
        self.path_prefix = ""
        self.datacenter = ""
        self.token = ""
        self.token_file = ""
        self.namespace = ""
        self.partition = ""
        self.http_auth: tuple[str, str] | None = None
        self.tls: dict[str, tuple[str, str]] = {}


# TLS setting: (environment variable, flag), as api.DefaultConfig and MergeOntoConfig map them.
_TLS_SETTINGS = {
    "ca_file": (messages.ENV_CACERT, "ca-file"),
    "ca_path": (messages.ENV_CAPATH, "ca-path"),
    "cert_file": (messages.ENV_CLIENT_CERT, "client-cert"),
    "key_file": (messages.ENV_CLIENT_KEY, "client-key"),
    "server_name": (messages.ENV_TLS_SERVER_NAME, "tls-server-name"),
}


def default_config(env: Mapping[str, str], warn: Warn, logger: str) -> Config:
    """``api.DefaultConfig``/``DefaultConfigWithLogger``: defaults, then the environment.

    ``warn`` receives the hclog line of a ``CONSUL_HTTP_SSL`` that does not parse, as logged by
    the logger named ``logger``.
    """
    config = Config()
    if env.get(messages.ENV_HTTP_ADDR):
        config.address = env[messages.ENV_HTTP_ADDR]
    if env.get(messages.ENV_HTTP_TOKEN_FILE):
        config.token_file = env[messages.ENV_HTTP_TOKEN_FILE]
    if env.get(messages.ENV_HTTP_TOKEN):
        config.token = env[messages.ENV_HTTP_TOKEN]
    auth = env.get(messages.ENV_HTTP_AUTH, "")
    if auth:
        user, _, password = auth.partition(":")
        config.http_auth = (user, password)
    ssl = env.get(messages.ENV_HTTP_SSL, "")
    if ssl:
        try:
            enabled = goflag.parse_bool(ssl)
        except ValueError as exc:
            enabled = False
            warn(
                log_line(
                    messages.HCLOG_WARN,
                    logger,
                    messages.API_COULD_NOT_PARSE.format(name=messages.ENV_HTTP_SSL),
                    [("error", str(exc))],
                )
            )
        if enabled:
            config.scheme = "https"
    for setting, (variable, _) in _TLS_SETTINGS.items():
        if env.get(variable):
            config.tls[setting] = (variable, env[variable])
    if env.get(messages.ENV_NAMESPACE):
        config.namespace = env[messages.ENV_NAMESPACE]
    if env.get(messages.ENV_PARTITION):
        config.partition = env[messages.ENV_PARTITION]
    return config


class HTTPFlags:
    """Consul's ``flags.HTTPFlags``: the client options (and, for ``watch``, the server ones)."""

    CLIENT = (
        ("http-addr", messages.CLI_HTTP_ADDR_USAGE),
        ("token", messages.CLI_TOKEN_USAGE),
        ("token-file", messages.CLI_TOKEN_FILE_USAGE),
        ("ca-file", messages.CLI_CA_FILE_USAGE),
        ("ca-path", messages.CLI_CA_PATH_USAGE),
        ("client-cert", messages.CLI_CLIENT_CERT_USAGE),
        ("client-key", messages.CLI_CLIENT_KEY_USAGE),
        ("tls-server-name", messages.CLI_TLS_SERVER_NAME_USAGE),
    )
    NAMES = frozenset(name for name, _ in CLIENT) | {"datacenter", "stale"}
    """Every flag ``flags.Usage`` lists under "HTTP API Options"."""

    def __init__(self) -> None:
        self.values = {name: goflag.ConsulString() for name, _ in self.CLIENT}
        self.datacenter = goflag.ConsulString()
        self.stale = goflag.ConsulBool()

    def client_flags(self) -> list[goflag.Flag]:
        """``ClientFlags()``: the flags every command merges into its own set."""
        return [goflag.Flag(name, usage, self.values[name]) for name, usage in self.CLIENT]

    def server_flags(self) -> list[goflag.Flag]:
        """``ServerFlags()``: ``-datacenter`` and ``-stale``."""
        return [
            goflag.Flag("datacenter", messages.CLI_DATACENTER_USAGE, self.datacenter),
            goflag.Flag("stale", messages.CLI_STALE_USAGE, self.stale),
        ]

    def addr(self) -> str:
        """``Addr()``: the ``-http-addr`` value, empty when not given."""
        return self.values["http-addr"].string()

    def api_client(self, env: Mapping[str, str], warn: Warn) -> Client:
        """``APIClient()``: a client from the defaults, the environment and these flags.

        Raises:
            APIError, NotImplementedByFake: as :func:`new_client`.
        """
        config = default_config(env, warn, messages.API_LOGGER_NAME)
        self.merge_onto_config(config)
        return new_client(config, env, warn)

    def checked_client(
        self, env: Mapping[str, str], ui: UI, check: Callable[[Client], object]
    ) -> Client | None:
        """A client whose agent passed ``check``, as the commands test the agent before the
        work: ``None`` after printing ``Error connecting to Consul agent: ...`` or ``Error
        querying Consul agent: ...``.
        """
        try:
            client = self.api_client(env, ui.raw_error)
        except APIError as exc:
            ui.error(messages.CLI_ERROR_CONNECTING.format(error=exc))
            return None
        try:
            check(client)
        except APIError as exc:
            client.close()
            ui.error(messages.CLI_ERROR_QUERYING.format(error=exc))
            return None
        return client

    def merge_onto_config(self, config: Config) -> None:
        """``MergeOntoConfig``: the flags that were given override the configuration."""
        for name, attribute in (
            ("http-addr", "address"),
            ("token", "token"),
            ("token-file", "token_file"),
        ):
            value = self.values[name].value
            if value is not None:
                setattr(config, attribute, value)
        for setting, (_, name) in _TLS_SETTINGS.items():
            value = self.values[name].value
            if value:
                config.tls[setting] = ("-" + name, value)
            elif value is not None:
                config.tls.pop(setting, None)
        if self.datacenter.value is not None:
            config.datacenter = self.datacenter.value


def _read_token_file(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        error = messages.GO_PATH_ERROR.format(op="open", path=path, error=go_errno_text(exc))
        raise APIError(messages.API_TOKEN_FILE_ERROR.format(path=path, error=error)) from None
    return data.decode("utf-8", "surrogateescape").strip(_GO_SPACE)


_GO_SPACE = " \t\n\v\f\r\x85\xa0"


def new_client(
    config: Config, env: Mapping[str, str], warn: Warn, *, logger: str = messages.API_LOGGER_NAME
) -> Client:
    """``api.NewClient``: complete ``config`` from a fresh default one, apply the address and
    token rules, and return a client.

    Raises:
        APIError: ``Unknown protocol scheme: ...`` or ``Error loading token file ...``, with Go's
            text.
        NotImplementedByFake: the configuration needs HTTPS, TLS files or a Unix socket.
    """
    defaults = default_config(env, warn, logger)
    if not config.address:
        config.address = defaults.address
    if not config.scheme:
        config.scheme = defaults.scheme
    for key, value in defaults.tls.items():
        config.tls.setdefault(key, value)
    if not config.namespace:
        config.namespace = defaults.namespace
    if not config.partition:
        config.partition = defaults.partition
    scheme, separator, rest = config.address.partition("://")
    if separator:
        if scheme == "https":
            config.scheme = "https"
        elif scheme == "unix":
            raise NotImplementedByFake(
                f"a Unix socket address ({config.address}) is not implemented; "
                "give the agent's HTTP address, host:port"
            )
        elif scheme != "http":
            raise APIError(messages.API_UNKNOWN_PROTOCOL_SCHEME.format(scheme=scheme))
        config.address = rest
        host, slash, prefix = rest.partition("/")
        if slash:
            config.address = host
            config.path_prefix = "/" + prefix
    # Token precedence: -token-file, -token, CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_TOKEN.
    if config.token_file and config.token_file != defaults.token_file:
        token = _read_token_file(config.token_file)
        if token:
            config.token = token
    elif config.token and config.token != defaults.token:
        pass
    elif defaults.token_file:
        token = _read_token_file(defaults.token_file)
        if token:
            config.token = token
            config.token_file = defaults.token_file
    else:
        config.token = defaults.token
    if config.scheme == "https":
        raise NotImplementedByFake(
            "HTTPS (an https:// address or CONSUL_HTTP_SSL=true) is not implemented; "
            "the fake agent serves plain HTTP"
        )
    if config.tls:
        names = ", ".join(sorted(source for source, _ in config.tls.values()))
        raise NotImplementedByFake(f"TLS settings are not implemented (given: {names})")
    return Client(config, env)


class Response(NamedTuple):
    """An HTTP answer: status, headers (lower-case names, first value of each), body."""

    status: int
    headers: dict[str, str]
    body: bytes


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_PATH_SAFE = _UNRESERVED | frozenset(b"$&+,/:;=@")


def _percent(text: str, safe: frozenset[int]) -> str:
    data = text.encode("utf-8", "surrogateescape")
    return "".join(chr(byte) if byte in safe else f"%{byte:02X}" for byte in data)


def _escape_query(text: str) -> str:
    # Go's url.QueryEscape: only A-Z a-z 0-9 - _ . ~ stay, a space is "+".
    return _percent(text, _UNRESERVED | {0x20}).replace(" ", "+")


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """``url.Values.Encode``: keys sorted (stable for repeated keys), each part escaped."""
    ordered = sorted(params, key=lambda item: item[0])
    return "&".join(f"{_escape_query(k)}={_escape_query(v)}" for k, v in ordered)


def escape_path(path: str) -> str:
    """``url.URL.EscapedPath`` of a path Go holds decoded: ``?``, ``%``, spaces and non-ASCII
    bytes escaped, ``/ : @ & = + $ , ;`` kept."""
    return _percent(path, _PATH_SAFE)


# Go's syscall.Errno texts for the errors a connection or a file can give (zerrors_linux.go).
_ERRNO_TEXTS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network is unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
    errno.ENOEXEC: "exec format error",
    errno.EPIPE: "broken pipe",
    errno.EADDRNOTAVAIL: "cannot assign requested address",
}


def go_errno_text(exc: OSError) -> str:
    """The text Go's ``syscall.Errno`` gives for the error of ``exc``."""
    if exc.errno in _ERRNO_TEXTS:
        return _ERRNO_TEXTS[exc.errno]
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return text[:1].lower() + text[1:]


def split_host_port(address: str) -> tuple[str, int]:
    """Go's ``canonicalAddr`` for an ``http`` URL host: the port defaults to 80.

    Raises:
        APIError: a port that is not a number.
    """
    host = address
    port = "80"
    if address.startswith("["):
        end = address.find("]")
        host = address[1:end] if end > 0 else address
        rest = address[end + 1 :] if end > 0 else ""
        if rest.startswith(":") and rest[1:]:
            port = rest[1:]
    elif address.count(":") == 1:
        host, _, port = address.partition(":")
        port = port or "80"
    if not (port.isdigit() and port.isascii()):
        raise APIError(messages.GO_INVALID_PORT.format(port=port))
    return host, int(port)


def _is_loopback(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _format_address(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ip_literal(host: str, port: int) -> list[tuple[Any, Any, int, str, Any]] | None:
    """The address of an IP literal host, as ``getaddrinfo`` would give it; ``None`` for a
    name (resolving a name loads the IDNA codec, which the command's start-up can skip)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        address = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
        return [(family, socket.SOCK_STREAM, 0, "", address)]
    return None


class _Closed(Exception):
    """The connection ended before a whole answer was read."""


class Client:
    """An agent client over one keep-alive connection, reconnecting when needed.

    Requests and answers are read and written here rather than with ``http.client``: the
    command starts as a new process for every call, and ``http.client`` (which loads the
    ``email`` parser and ``ssl``) would be the largest part of its start-up. The agents it
    talks to (Go's ``net/http``, the fake) answer with well-formed HTTP/1.1: a status line,
    headers, and a body framed by ``Content-Length``, chunked encoding, or the connection's end.
    """

    def __init__(self, config: Config, env: Mapping[str, str]) -> None:
        self.config = config
        self.host, self.port = split_host_port(config.address)
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._addresses = ("", "")
        if not _is_loopback(self.host):
            proxy = env.get("HTTP_PROXY") or env.get("http_proxy")
            if proxy and not env.get("REQUEST_METHOD"):
                raise NotImplementedByFake(
                    f"requests through an HTTP proxy (HTTP_PROXY={proxy}) are not implemented"
                )

    def url(self, path: str, query: str) -> str:
        """The request URL as Go prints it in errors."""
        full = f"{self.config.scheme}://{self.config.address}{escape_path(path)}"
        return f"{full}?{query}" if query else full

    def new_params(self) -> list[tuple[str, str]]:
        """The parameters ``newRequest`` adds to every request (dc, ns, partition)."""
        params = []
        if self.config.datacenter:
            params.append(("dc", self.config.datacenter))
        if self.config.namespace:
            params.append(("ns", self.config.namespace))
        if self.config.partition:
            params.append(("partition", self.config.partition))
        return params

    def close(self) -> None:
        """Close the connection, if open."""
        if self._sock is not None:
            self._reader.close()
            self._sock.close()
            self._sock = None
            self._reader = None

    def do(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """Send one request and read the whole answer.

        Raises:
            APIError: no whole answer came, with Go's ``url.Error`` text.
        """
        path = self.config.path_prefix + path
        query = encode_query([*self.new_params(), *params])
        target = escape_path(path) + (f"?{query}" if query else "")
        request = self._request_bytes(method, target, body, headers)
        op = method[:1] + method[1:].lower()
        reused = self._sock is not None
        try:
            try:
                return self._roundtrip(request)
            except _Closed:
                if not reused:
                    raise
                # A kept-alive connection the agent had closed: Go's transport retries once.
                return self._roundtrip(request)
        except _Closed as exc:
            error = str(exc)
        except APIError as exc:
            error = str(exc)
        raise APIError(messages.GO_URL_ERROR.format(op=op, url=self.url(path, query), error=error))

    def _request_bytes(
        self, method: str, target: str, body: bytes | None, headers: Sequence[tuple[str, str]]
    ) -> bytes:
        # Go writes Host, User-Agent, Content-Length, the request's headers sorted by name,
        # then the transport's Accept-Encoding.
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.config.address}"]
        lines.append("User-Agent: Go-http-client/1.1")
        if body or method in ("PUT", "POST", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        extra = list(headers)
        if self.config.http_auth is not None:
            extra.append(("Authorization", _basic_auth(*self.config.http_auth)))
        if self.config.token:
            extra.append((messages.HEADER_TOKEN, self.config.token))
        lines.extend(f"{name}: {value}" for name, value in sorted(extra))
        lines.append("Accept-Encoding: gzip")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
        return head + (body or b"")

    def _connect(self) -> None:
        if self._sock is not None:
            return
        infos = _ip_literal(self.host, self.port)
        if infos is None:
            try:
                infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            except socket.gaierror:
                raise APIError(messages.GO_LOOKUP_ERROR.format(host=self.host)) from None
        failure = ""
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(30.0)  # cleanhttp's dial timeout
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                text = (
                    messages.GO_IO_TIMEOUT if isinstance(exc, TimeoutError) else go_errno_text(exc)
                )
                shown = _format_address(address)
                failure = messages.GO_DIAL_ERROR.format(address=shown, error=text)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
            self._reader = sock.makefile("rb")
            self._addresses = (_format_address(sock.getsockname()), _format_address(address))
            return
        raise APIError(failure)

    def _read_error(self, exc: OSError) -> _Closed:
        local, remote = self._addresses
        self.close()
        return _Closed(
            messages.GO_READ_ERROR.format(local=local, remote=remote, error=go_errno_text(exc))
        )

    def _roundtrip(self, request: bytes) -> Response:
        self._connect()
        assert self._sock is not None
        try:
            self._sock.sendall(request)
        except OSError as exc:
            local, remote = self._addresses
            self.close()
            error = go_errno_text(exc)
            raise _Closed(
                messages.GO_WRITE_ERROR.format(local=local, remote=remote, error=error)
            ) from None
        try:
            return self._read_response()
        except OSError as exc:
            raise self._read_error(exc) from None

    def _read_response(self) -> Response:
        reader = self._reader
        while True:
            line = reader.readline(65536)
            if not line:
                self.close()
                raise _Closed(messages.GO_EOF)
            version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
            code_text = rest[:3]
            if not version.startswith("HTTP/") or not code_text.isdigit():
                self.close()
                shown = go_quote(line.decode("latin-1").rstrip("\r\n"))
                raise _Closed(messages.GO_MALFORMED_RESPONSE.format(line=shown))
            headers: dict[str, str] = {}
            while True:
                header = reader.readline(65536)
                if not header:
                    self.close()
                    raise _Closed(messages.GO_UNEXPECTED_EOF)
                text = header.decode("latin-1").rstrip("\r\n")
                if not text:
                    break
                name, _, value = text.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
            status = int(code_text)
            if 100 <= status < 200:
                continue  # an interim answer: the real one follows
            break
        body = self._read_body(headers)
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if not keep or (
            "content-length" not in headers
            and "chunked" not in headers.get("transfer-encoding", "")
        ):
            self.close()
        if headers.get("content-encoding", "").lower() == "gzip":
            import zlib  # only for bodies the agent compressed

            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            del headers["content-encoding"]
        return Response(status, headers, body)

    def _read_body(self, headers: dict[str, str]) -> bytes:
        reader = self._reader
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = reader.readline(65536)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close()
                    raise _Closed(messages.GO_UNEXPECTED_EOF) from None
                if size == 0:
                    while reader.readline(65536) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunk = reader.read(size)
                reader.readline(65536)
                if len(chunk) < size:
                    self.close()
                    raise _Closed(messages.GO_UNEXPECTED_EOF)
                chunks.append(chunk)
        if "content-length" in headers:
            length = int(headers["content-length"])
            data = reader.read(length)
            if len(data) < length:
                self.close()
                raise _Closed(messages.GO_UNEXPECTED_EOF)
            return bytes(data)
        return bytes(reader.read())


def _basic_auth(user: str, password: str) -> str:
    import base64

    raw = f"{user}:{password}".encode("utf-8", "surrogateescape")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def go_trim_space(data: bytes) -> str:
    """``strings.TrimSpace`` of a body, as text (undecodable bytes kept as escapes)."""
    return data.decode("utf-8", "surrogateescape").strip(
        _GO_SPACE + "\u1680\u2000\u2001\u2002"
        "\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    )


def require_ok(response: Response) -> None:
    """``requireOK``: a non-200 answer is ``Unexpected response code: N (body)``.

    Raises:
        APIError: the status was not 200.
    """
    if response.status != 200:
        raise APIError(
            messages.API_UNEXPECTED_RESPONSE_CODE.format(
                code=response.status, body=go_trim_space(response.body)
            )
        )
