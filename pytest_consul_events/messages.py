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
# What Go's http.DetectContentType answers for the plain-text bodies Consul writes.
CONTENT_TYPE_TEXT = "text/plain; charset=utf-8"

# ACL system (with PERMISSION_DENIED, ACL_NOT_FOUND and ROOT_ACL above)
# agent/consul/acl_server.go serverACLResolverBackend.ResolveIdentityFromToken: an unknown
# secret before the ACL system was bootstrapped (wraps ACL_NOT_FOUND with %w)
ACL_NOT_BOOTSTRAPPED = (
    "ACL system must be bootstrapped before making any requests that require authorization: {error}"
)
# acl/errors.go PermissionDeniedError.Error() for a named resource. The accessor form is in
# acl/errors_test.go (both old and modern); the anonymous form is from the modern errors_test.go
# (unnamed variant) plus agent logs quoting the named variant: the exact source was not read.
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
