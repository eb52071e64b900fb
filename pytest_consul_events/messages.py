"""Every string real Consul puts on the wire for the behaviours this fake reproduces.

One place, so that a reader can check each against Consul's source (cited beside it) and the
tests can assert on the same constant the fake sends.
"""

from __future__ import annotations

# agent/event_endpoint.go: EventFire
MISSING_NAME = "Missing name"
# agent/user_event.go: validateUserEventParams
TAG_WITHOUT_SERVICE = "Cannot provide tag filter without service filter"
INVALID_NODE_FILTER = "Invalid node filter: {error}"
INVALID_SERVICE_FILTER = "Invalid service filter: {error}"
INVALID_TAG_FILTER = "Invalid tag filter: {error}"

# agent/structs/errors.go
NO_PATH_TO_DATACENTER = "No path to datacenter"
# agent/structs/errors.go: a datacenter whose servers cannot be reached
NO_KNOWN_SERVERS = "No known Consul servers"
REMOTE_DC_UNREACHABLE = "Remote DC has no server currently reachable"
# agent/pool/pool.go: how a client agent wraps errors that came back over RPC
RPC_ERROR_PREFIX = "rpc error making call: "

# acl/errors.go
PERMISSION_DENIED = "Permission denied"
ACL_NOT_FOUND = "ACL not found"
ROOT_ACL = "Cannot resolve root ACL"

# agent/consul/server_ce.go: LANSendUserEvent wraps serf's error
BROADCAST_ERROR = "error broadcasting event: {error}"
# hashicorp/serf serf/serf.go @v0.10.1: UserEvent
SIZE_BEFORE_ENCODING = "user event exceeds configured limit of {limit} bytes before encoding"
SIZE_AFTER_ENCODING = "encoded user event exceeds configured limit of {limit} bytes after encoding"
# agent/consul/server_serf.go: userEventPrefix
SERF_USER_EVENT_PREFIX = "consul:event:"

# agent/http.go: parseWait
INVALID_WAIT_TIME = "Invalid wait time"
INVALID_INDEX = "Invalid index"
# agent/http.go: MethodNotAllowedError
METHOD_NOT_ALLOWED = "method {method} not allowed"
# agent/http.go: Index, for unknown paths containing /v1/ and for others (Fprintln adds "\n")
INVALID_URL_PATH = "Invalid URL path: not a recognized HTTP API endpoint\n"
INVALID_URL_PATH_NO_V1 = (
    "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n"
)
# agent/http.go: Index for "/" when the agent serves no UI
UI_DISABLED = (
    "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration"
    " and restart."
)

# agent/agent_endpoint.go: AgentRegisterService / AgentDeregisterService
REQUEST_DECODE_FAILED = "Request decode failed: {error}"
MISSING_SERVICE_NAME = "Missing service name"
INVALID_SERVICE_ADDRESS = "Invalid service address"
# agent/acl.go: vetServiceUpdateWithAuthorizer (404; the ID is formatted with Go's %q)
UNKNOWN_SERVICE_ID = (
    "Unknown service ID {service_id}. Ensure that the service ID is passed, not the service name."
)

# Header names and values (Go canonicalises header keys on the wire).
HEADER_INDEX = "X-Consul-Index"
HEADER_DEFAULT_ACL_POLICY = "X-Consul-Default-Acl-Policy"
HEADER_FILTERED_BY_ACLS = "X-Consul-Results-Filtered-By-Acls"
HEADER_TOKEN = "X-Consul-Token"
HEADER_VARY = "Vary"
VARY_ACCEPT_ENCODING = "Accept-Encoding"
CONTENT_TYPE_JSON = "application/json"
# What Go's http.DetectContentType answers for the plain-text bodies Consul writes, and for a
# body with a byte it counts as binary (net/http/sniff.go textSig, and the fallback).
CONTENT_TYPE_TEXT = "text/plain; charset=utf-8"
CONTENT_TYPE_BINARY = "application/octet-stream"

# ACL system (with PERMISSION_DENIED, ACL_NOT_FOUND and ROOT_ACL above)
# agent/consul/acl_server.go serverACLResolverBackend.ResolveIdentityFromToken: an unknown
# secret before the ACL system was bootstrapped (wraps ACL_NOT_FOUND with %w)
ACL_NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: {error}"
)
# acl/errors.go PermissionDeniedError.Error() for a named resource (PermissionDeniedByACL): the
# accessor or "anonymous token", "lacks permission '<resource>:<access>'", " on " and the quoted
# name, then the anonymous token's sentence.
PERMISSION_DENIED_DETAIL = (
    "Permission denied: token with AccessorID '{accessor}' lacks permission '{resource}:{access}'"
    ' on "{name}"'
)
PERMISSION_DENIED_ANONYMOUS_DETAIL = (
    "Permission denied: anonymous token lacks permission '{resource}:{access}' on \"{name}\"."
    " The anonymous token is used implicitly when a request does not specify a token."
)
# acl/policy_ce.go decodeRules
FAILED_TO_PARSE_RULES = "Failed to parse ACL rules: {error}"
# acl/policy.go PolicyRules.Validate ({resource} is the HCL block name, {rule} Go's %#v)
INVALID_RULE_POLICY = "Invalid {resource} policy: {rule}"
INVALID_RULE_INTENTIONS = "Invalid {resource} intentions policy: {rule}"
# acl/policy.go AccessLevelFromString ({level} is Go's %q)
INVALID_ACCESS_LEVEL = "{level} is not a valid access level"
# agent/consul/acl_endpoint.go ACL.PolicySet / ACL.PolicyDelete
POLICY_NO_NAME = "Invalid Policy: no Name is set"
POLICY_INVALID_NAME = (
    "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"
)
POLICY_NAME_EXISTS = "Invalid Policy: A Policy with Name {name} already exists"  # %q
POLICY_NAME_EXISTS_UPDATE = "Invalid Policy: A policy with name {name} already exists"  # %q
POLICY_NOT_FOUND = "cannot find policy {id}"
# UNCONFIRMED: recalled from ACL.PolicySet, not read in source this time.
POLICY_UPDATE_BUILTIN = (
    "Changing the Rules for the builtin global-management policy is not permitted"
)
# the modern test TestACLEndpoint_PolicyDelete_CannotDeleteBuiltinPolicies formats the name in
POLICY_DELETE_BUILTIN = "Delete operation not permitted on the builtin {name} policy"
# agent/consul/auth/token_writer.go (Create, Update, validateTokenID, normalizePolicyLinks)
TOKEN_ACCESSOR_INVALID = "Invalid Token: AccessorID - {reason}"
TOKEN_SECRET_INVALID = "Invalid Token: SecretID - {reason}"
TOKEN_ACCESSOR_IN_USE = "Invalid Token: AccessorID is already in use"
TOKEN_SECRET_IN_USE = "Invalid Token: SecretID is already in use"
UUID_RESERVED = 'UUIDs with the prefix "00000000-0000-0000-0000-0000000000" are reserved'
UUID_NOT_VALID = "not a valid UUID"
NO_SUCH_POLICY_ID = "No such ACL policy with ID {id}"  # %q
NO_SUCH_POLICY_NAME = "No such ACL policy with name {name}"  # %q
TOKEN_UPDATE_BAD_ACCESSOR = "AccessorID is not a valid UUID"
TOKEN_NOT_FOUND = "Cannot find token {accessor}"  # %q
# agent/consul/acl_endpoint.go ACL.TokenDelete
TOKEN_DELETE_BAD_ACCESSOR = "Accessor ID is missing or an invalid UUID"
TOKEN_DELETE_ANONYMOUS = "Delete operation not permitted on the anonymous token"
TOKEN_DELETE_OWN = "Deletion of the request's authorization token is not permitted"
# acl/acl.go and agent/consul/acl.go: the anonymous token
ANONYMOUS_TOKEN_SECRET = "anonymous"
ANONYMOUS_TOKEN_ACCESSOR_ID = "00000000-0000-0000-0000-000000000002"
# agent/consul/leader.go insertAnonymousToken / initializeManagementToken
ANONYMOUS_TOKEN_DESCRIPTION = "Anonymous Token"
INITIAL_MANAGEMENT_TOKEN_DESCRIPTION = "Initial Management Token"
# agent/structs/acl.go: the built-in policies (their rules are in model/acl.py)
GLOBAL_MANAGEMENT_POLICY_ID = "00000000-0000-0000-0000-000000000001"
GLOBAL_MANAGEMENT_POLICY_NAME = "global-management"
GLOBAL_MANAGEMENT_POLICY_DESCRIPTION = "Builtin Policy that grants unlimited access"
GLOBAL_READ_ONLY_POLICY_ID = "00000000-0000-0000-0000-000000000002"
GLOBAL_READ_ONLY_POLICY_NAME = "builtin/global-read-only"
GLOBAL_READ_ONLY_POLICY_DESCRIPTION = (
    "Builtin Policy that grants unlimited read-only access to all components"
)

# agent/acl_endpoint.go: the HTTP handlers of the ACL API
ACL_DISABLED = "ACL support disabled"
POLICY_DECODE_FAILED = "Policy decoding failed: {error}"
TOKEN_DECODE_FAILED = "Token decoding failed: {error}"
POLICY_ID_ON_CREATE = "Cannot specify the ID when creating a new policy"
POLICY_ID_MISMATCH = "Policy ID in URL and payload do not match"
TOKEN_ID_MISMATCH = "Token Accessor ID in URL and payload do not match"
MISSING_POLICY_ID = "Missing policy ID"
MISSING_TOKEN_ID = "Missing token AccessorID"
POLICY_NOT_EXIST = "Requested policy does not exist: ACL not found"
TOKEN_NOT_EXIST = "Requested token does not exist: ACL not found"
TOKEN_SELF_NOT_EXIST = "Supplied token does not exist"
# acl/errors.go: PermissionDeniedError for an unnamed resource (acl:read, acl:write)
PERMISSION_DENIED_UNNAMED = (
    "Permission denied: token with AccessorID '{accessor}' lacks permission '{resource}:{access}'"
)
PERMISSION_DENIED_UNNAMED_ANONYMOUS = (
    "Permission denied: anonymous token lacks permission '{resource}:{access}'."
    " The anonymous token is used implicitly when a request does not specify a token."
)

# -- Consul's command line: `consul event` and `consul watch` ---------------------------------
# Read in hashicorp/consul at the newest copies available: command/event/event.go @38bfb24,
# command/watch/watch.go @cf84c59, command/flags/http.go @705c08e, command/flags/usage.go
# @0543150, api/api.go @193b3d4, api/event.go @2375cd6, api/watch/{plan,funcs,watch}.go
# (@6a193e3, @61ab6b2, @0be39e3), agent/exec/exec{,_unix}.go, main.go (modern, HelpWriter on
# stdout); mitchellh/cli @e73bd00 (cli.go, help.go, ui.go); Go src/flag/flag.go @03556ef.

# command/event/event.go: flags, messages and help
CLI_EVENT_NAME_USAGE = "Name of the event."
CLI_EVENT_NODE_USAGE = "Regular expression to filter on node names."
CLI_EVENT_SERVICE_USAGE = "Regular expression to filter on service instances."
CLI_EVENT_TAG_USAGE = "Regular expression to filter on service tags. Must be used with -service."
CLI_EVENT_NAME_REQUIRED = "Event name must be specified"
CLI_EVENT_NODE_REGEXP = "Failed to compile node filter regexp: {error}"
CLI_EVENT_SERVICE_REGEXP = "Failed to compile service filter regexp: {error}"
CLI_EVENT_TAG_REGEXP = "Failed to compile tag filter regexp: {error}"
CLI_EVENT_TAG_WITHOUT_SERVICE = "Cannot provide tag filter without service filter."
CLI_EVENT_TOO_MANY_ARGUMENTS = "Too many command line arguments."
CLI_EVENT_FIRE_FAILED = "Error firing event: {error}"
CLI_EVENT_ID = "Event ID: {id}"
CLI_EVENT_SYNOPSIS = "Fire a new event"
CLI_EVENT_HELP = """
Usage: consul event [options] [payload]

  Dispatches a custom user event across a datacenter. An event must provide
  a name, but a payload is optional. Events support filtering using
  regular expressions on node name, service, and tag definitions.
"""
# command/event/event.go and command/watch/watch.go: reaching the agent
CLI_ERROR_CONNECTING = "Error connecting to Consul agent: {error}"
CLI_ERROR_QUERYING = "Error querying Consul agent: {error}"

# command/watch/watch.go: flags, messages and help
CLI_WATCH_TYPE_USAGE = (
    "Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, or event."
)
CLI_WATCH_KEY_USAGE = "Specifies the key to watch. Only for 'key' type."
CLI_WATCH_PREFIX_USAGE = "Specifies the key prefix to watch. Only for 'keyprefix' type."
CLI_WATCH_SERVICE_USAGE = (
    "Specifies the service to watch. Required for 'service' type, optional for 'checks' type."
)
CLI_WATCH_TAG_USAGE = (
    "Specifies the service tag(s) to filter on. Optional for 'service' type. "
    "May be specified multiple times"
)
CLI_WATCH_PASSINGONLY_USAGE = (
    "Specifies if only hosts passing all checks are displayed. Optional for 'service' type, "
    "must be one of `[true|false]`. Defaults false."
)
CLI_WATCH_SHELL_USAGE = (
    "Use a shell to run the command (can set a custom shell via the SHELL environment variable)."
)
CLI_WATCH_STATE_USAGE = "Specifies the states to watch. Optional for 'checks' type."
CLI_WATCH_NAME_USAGE = "Specifies an event name to watch. Only for 'event' type."
CLI_WATCH_FILTER_USAGE = "Filter to use with the request"
CLI_WATCH_TYPE_REQUIRED = "Watch type must be specified"
CLI_WATCH_PASSINGONLY_PARSE = "Failed to parse passingonly flag: {error}"
CLI_WATCH_TYPE_NOT_IN_CLI = "Type {type} is not supported in the CLI tool"
CLI_WATCH_ENCODING_FAILED = "Error encoding output: {error}"
CLI_WATCH_SIGNAL_NOT_FORWARDED = "Warning, could not forward signal: {error}"
CLI_WATCH_HANDLER_FAILED = "Error executing handler: {error}"
CLI_WATCH_HANDLER_NOT_STARTED = "Error starting handler: {error}"
CLI_WATCH_SYNOPSIS = "Watch for changes in Consul"
CLI_WATCH_HELP = """
Usage: consul watch [options] [child...]

  Watches for changes in a given data view from Consul. If a child process
  is specified, it will be invoked with the latest results on changes. Otherwise,
  the latest values are dumped to stdout and the watch terminates.

  Providing the watch type is required, and other parameters may be required
  or supported depending on the watch type.
"""
# agent/exec/exec_unix.go Script: the shell when $SHELL is empty; agent/exec/exec.go Subprocess
CLI_WATCH_DEFAULT_SHELL = "/bin/sh"
CLI_WATCH_INDEX_ENV = "CONSUL_INDEX"

# api/watch/watch.go ParseExempt and api/watch/funcs.go
WATCH_TYPE_MUST_BE_SPECIFIED = "Watch type must be specified"
WATCH_UNSUPPORTED_TYPE = "Unsupported watch type: {type}"
WATCH_INVALID_PARAMETERS = "Invalid parameters: {params}"  # Go's %v of a []string: [a b]
WATCH_MUST_SPECIFY_KEY = "Must specify a single key to watch"
WATCH_MUST_SPECIFY_PREFIX = "Must specify a single prefix to watch"
WATCH_MUST_SPECIFY_SERVICE = "Must specify a single service to watch"
WATCH_SERVICE_AND_STATE = "Cannot specify service and state"
# api/watch/plan.go: RunWithConfig, and the hclog line of a failed query
WATCH_FAILED_TO_CONNECT = "Failed to connect to agent: {error}"
WATCH_ERRORED = "Watch errored"
WATCH_LOGGER_NAME = "watch"
# api/event.go IDToIndex panics on an ID that is not hexadecimal where a UUID has digits
WATCH_ID_TO_INDEX_PANIC = "Failed to convert {part}"

# command/flags/http.go: the HTTP API options every command shares
CLI_HTTP_ADDR_USAGE = (
    "The `address` and port of the Consul HTTP agent. The value can be an IP address or DNS "
    "address, but it must also include the port. This can also be specified via the "
    "CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500. The "
    "scheme can also be set to HTTPS by setting the environment variable CONSUL_HTTP_SSL=true."
)
CLI_TOKEN_USAGE = (
    "ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN "
    "environment variable. If unspecified, the query will default to the token of the Consul "
    "agent at the HTTP address."
)
CLI_TOKEN_FILE_USAGE = (
    "File containing the ACL token to use in the request instead of one specified via the "
    "-token argument or CONSUL_HTTP_TOKEN environment variable. This can also be specified via "
    "the CONSUL_HTTP_TOKEN_FILE environment variable."
)
CLI_CA_FILE_USAGE = (
    "Path to a CA file to use for TLS when communicating with Consul. This can also be "
    "specified via the CONSUL_CACERT environment variable."
)
CLI_CA_PATH_USAGE = (
    "Path to a directory of CA certificates to use for TLS when communicating with Consul. "
    "This can also be specified via the CONSUL_CAPATH environment variable."
)
CLI_CLIENT_CERT_USAGE = (
    "Path to a client cert file to use for TLS when 'verify_incoming' is enabled. This can "
    "also be specified via the CONSUL_CLIENT_CERT environment variable."
)
CLI_CLIENT_KEY_USAGE = (
    "Path to a client key file to use for TLS when 'verify_incoming' is enabled. This can also "
    "be specified via the CONSUL_CLIENT_KEY environment variable."
)
CLI_TLS_SERVER_NAME_USAGE = (
    "The server name to use as the SNI host when connecting via TLS. This can also be "
    "specified via the CONSUL_TLS_SERVER_NAME environment variable."
)
CLI_DATACENTER_USAGE = (
    "Name of the datacenter to query. If unspecified, this will default to the datacenter of "
    "the queried agent."
)
CLI_STALE_USAGE = (
    "Permit any Consul server (non-leader) to respond to this request. This allows for lower "
    "latency and higher throughput, but can result in stale data. This option has no effect on "
    "non-read operations. The default value is false."
)

# api/api.go: the client's environment, address handling and errors
ENV_HTTP_ADDR = "CONSUL_HTTP_ADDR"
ENV_HTTP_TOKEN = "CONSUL_HTTP_TOKEN"
ENV_HTTP_TOKEN_FILE = "CONSUL_HTTP_TOKEN_FILE"
ENV_HTTP_AUTH = "CONSUL_HTTP_AUTH"
ENV_HTTP_SSL = "CONSUL_HTTP_SSL"
ENV_HTTP_SSL_VERIFY = "CONSUL_HTTP_SSL_VERIFY"
ENV_CACERT = "CONSUL_CACERT"
ENV_CAPATH = "CONSUL_CAPATH"
ENV_CLIENT_CERT = "CONSUL_CLIENT_CERT"
ENV_CLIENT_KEY = "CONSUL_CLIENT_KEY"
ENV_TLS_SERVER_NAME = "CONSUL_TLS_SERVER_NAME"
ENV_NAMESPACE = "CONSUL_NAMESPACE"
ENV_PARTITION = "CONSUL_PARTITION"
API_DEFAULT_ADDRESS = "127.0.0.1:8500"
API_LOGGER_NAME = "consul-api"
API_COULD_NOT_PARSE = "could not parse {name}"
API_UNEXPECTED_RESPONSE_CODE = "Unexpected response code: {code} ({body})"
API_UNKNOWN_PROTOCOL_SCHEME = "Unknown protocol scheme: {scheme}"
API_TOKEN_FILE_ERROR = "Error loading token file {path} : {error}"
API_EVENT_CONTENT_TYPE = "application/octet-stream"

# mitchellh/cli (cli.go, help.go) and Consul's main.go: the top level of `consul`
CLI_APP_USAGE = "Usage: {app} [--version] [--help] <command> [<args>]\n\n"
CLI_AVAILABLE_COMMANDS = "Available commands are:\n"
CLI_INVALID_TOP_FLAGS = (
    "Invalid flags before the subcommand. If these flags are for\n"
    "the subcommand, please put them after the subcommand.\n\n"
)
CLI_UNKNOWN_COMMAND_EXIT = 127
CLI_EXECUTING_FAILED = "Error executing CLI: {error}"

# Go src/flag/flag.go: what a FlagSet prints, and strconv.ParseBool's error
GO_FLAG_USAGE_HEADER = "Usage:\n"
GO_FLAG_BAD_SYNTAX = "bad flag syntax: {arg}"
GO_FLAG_NOT_DEFINED = "flag provided but not defined: -{name}"
GO_FLAG_NEEDS_ARGUMENT = "flag needs an argument: -{name}"
GO_FLAG_INVALID_VALUE = "invalid value {quoted} for flag -{name}: {error}"
GO_FLAG_INVALID_BOOL = "invalid boolean value {quoted} for -{name}: {error}"
GO_FLAG_INVALID_BOOL_FLAG = "invalid boolean flag {name}: {error}"
GO_FLAG_PARSE_ERROR = "parse error"
GO_FLAG_HELP_REQUESTED = "flag: help requested"
GO_PARSE_BOOL_SYNTAX = "strconv.ParseBool: parsing {quoted}: invalid syntax"

# Go src/os/exec: how a handler's failure reads (ExitError, exec.Error, os.StartProcess)
GO_EXIT_STATUS = "exit status {code}"
GO_SIGNALED = "signal: {signal}"
GO_CORE_DUMPED = " (core dumped)"
GO_EXEC_NOT_FOUND = "exec: {quoted}: executable file not found in $PATH"
GO_EXEC_DOT = "exec: {quoted}: cannot run executable found relative to current directory"
GO_FORK_EXEC = "fork/exec {path}: {error}"
# Go src/net/http/client.go urlErrorOp and src/net/url/url.go Error.Error: a failed request
GO_URL_ERROR = '{op} "{url}": {error}'
GO_DIAL_ERROR = "dial tcp {address}: connect: {error}"
GO_LOOKUP_ERROR = "dial tcp: lookup {host}: no such host"  # UNCONFIRMED: resolver-dependent
GO_EOF = "EOF"
# hashicorp/go-hclog intlogger.go: level brackets and the default time format (Go layout)
HCLOG_ERROR = "[ERROR]"
HCLOG_WARN = "[WARN] "
HCLOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.{millis}{zone}"  # "2006-01-02T15:04:05.000Z0700"
# Go's runtime: an unrecovered panic prints this and exits 2
GO_PANIC = "panic: {message}\n\ngoroutine 1 [running]:\n"
GO_PANIC_EXIT = 2
# Go src/io/fs: os.PathError, as in "open /x: no such file or directory"
GO_PATH_ERROR = "{op} {path}: {error}"
# Go src/net (OpError) and src/net/http (transport): reading an answer that breaks off
GO_READ_ERROR = "read tcp {local}->{remote}: read: {error}"
GO_WRITE_ERROR = "write tcp {local}->{remote}: write: {error}"
GO_MALFORMED_RESPONSE = "malformed HTTP response {line}"  # %q of the line
GO_UNEXPECTED_EOF = "unexpected EOF"
GO_IO_TIMEOUT = "i/o timeout"
GO_INVALID_PORT = 'invalid port ":{port}" after host'
# Go src/encoding/json and src/encoding/base64: decoding an agent's answer into Consul's types
GO_JSON_FIELD_TYPE = "json: cannot unmarshal {value} into Go struct field {field} of type {type}"
GO_JSON_VALUE_TYPE = "json: cannot unmarshal {value} into Go value of type {type}"
GO_BASE64_CORRUPT = "illegal base64 data at input byte {offset}"
# Go's runtime: the panics of api/event.go IDToIndex, eventWatch and Agent.NodeName
GO_SLICE_OUT_OF_RANGE = "runtime error: slice bounds out of range [:{high}] with length {length}"
GO_NIL_DEREFERENCE = "runtime error: invalid memory address or nil pointer dereference"
GO_INTERFACE_CONVERSION = "interface conversion: interface {{}} is {got}, not string"

# Consul's agent configuration (agent/config/builder.go, agent/config/config.go,
# agent/config/deprecated.go) and mitchellh/mapstructure's decode errors, for the standalone
# agent's --config-file and --hcl. Consul wraps several errors in a multierror list; the
# standalone agent prints them on one line, joined by "; ".
CONFIG_PARSE_FAILED = "failed to parse {source}: {error}"  # builder.go build(): "%v: %w"
CONFIG_INVALID_KEY = "invalid config key {key}"  # builder.go build(), md.Unused
CONFIG_OPEN_FAILED = "config: Open failed on {path}. {error}"  # builder.go sourcesFromPath
CONFIG_READDIR_FAILED = "config: Readdir failed on {path}. {error}"
CONFIG_READ_FAILED = "config: failed to read {path}: {error}"  # builder.go newSourceFromFile
CONFIG_UNKNOWN_EXTENSION = (
    "file {path} has unknown extension; must be .hcl or .json, or config format must be set"
)
CONFIG_SKIPPING_FILE = (
    "skipping file {path}, extension must be .hcl or .json, or config format must be set"
)
CONFIG_INVALID_FORMAT = "invalid format: {format}"  # config.go FileSource.Parse
CONFIG_DEPRECATED_FIELD = "The '{old}' field is deprecated. Use the '{new}' field instead."
# mitchellh/mapstructure mapstructure.go (decodeString, decodeInt, decodeBool, decodeFloat;
# decodeStruct/decodeMap; decodeSlice without WeaklyTypedInput)
MAPSTRUCTURE_UNCONVERTIBLE = (
    "'{name}' expected type '{expected}', got unconvertible type '{got}', value: '{value}'"
)
MAPSTRUCTURE_EXPECTED_MAP = "'{name}' expected a map, got '{got}'"
MAPSTRUCTURE_EXPECTED_SLICE = "'{name}': source data must be an array or slice, got {got}"

# -- The HTTP server in front of Consul's handlers ---------------------------------------------
# Go's net/http conn.serve (src/net/http/server.go) answers requests it cannot read itself, raw:
# "HTTP/1.1 " + status + GO_ERROR_HEADERS + body, then closes the connection.
GO_ERROR_HEADERS = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
GO_BAD_REQUEST = "400 Bad Request"
# server.go: errTooLarge, once the request line and headers pass MaxHeaderBytes + 4096
GO_HEADERS_TOO_LARGE = "431 Request Header Fields Too Large"
# server.go: isUnsupportedTEError; the status line, then this body
GO_NOT_IMPLEMENTED = "501 Not Implemented"
GO_UNSUPPORTED_TE = "Unsupported transfer encoding"
# server.go: statusError{StatusHTTPVersionNotSupported, "unsupported protocol version"}
GO_VERSION_NOT_SUPPORTED = "505 HTTP Version Not Supported"
GO_UNSUPPORTED_VERSION = "unsupported protocol version"
# server.go (*conn).readRequest: the badRequestError reasons, shown as "400 Bad Request: <reason>"
GO_MISSING_HOST = "missing required Host header"
GO_MALFORMED_HOST = "malformed Host header"
GO_INVALID_HEADER_NAME = "invalid header name"
# server.go: expectContinueReader's interim answer, and sendExpectationFailed's status
GO_CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n"
GO_EXPECTATION_FAILED = "417 Expectation Failed"

# hashicorp/go-connlimit connlimit.go: tooManyConnsMsg and tooManyRequestsResponse, written by
# HTTPConnStateFuncWithDefault429Handler to the connection over the limit, which it then closes.
# Consul (agent/agent.go listenHTTP) installs it with a 10 ms write deadline.
TOO_MANY_CONNS_MSG = (
    "Your IP is issuing too many concurrent connections, please rate limit your calls\n"
)
TOO_MANY_REQUESTS_RESPONSE = (
    "HTTP/1.1 429 Too Many Requests\r\n"
    "Content-Type: text/plain\r\n"
    f"Content-Length: {len(TOO_MANY_CONNS_MSG)}\r\n"
    f"Connection: close\r\n\r\n{TOO_MANY_CONNS_MSG}"
)
