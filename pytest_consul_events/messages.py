"""Every string real Consul puts on the wire for the behaviours this fake reproduces.

One place, so that a reader can check each against Consul's source (cited beside it) and the
tests can assert on the same constant the fake sends.
"""

from __future__ import annotations

# agent/event_endpoint.go: EventFire
MISSING_NAME = "Missing name"
# agent/user_event.go: validateUserEventParams
USER_EVENT_MISSING_NAME = "User event missing name"
TAG_WITHOUT_SERVICE = "Cannot provide tag filter without service filter"
INVALID_NODE_FILTER = "Invalid node filter: {error}"
INVALID_SERVICE_FILTER = "Invalid service filter: {error}"
INVALID_TAG_FILTER = "Invalid tag filter: {error}"

# agent/structs/errors.go
NO_PATH_TO_DATACENTER = "No path to datacenter"
# agent/pool/pool.go: how a client agent wraps errors that came back over RPC
RPC_ERROR_PREFIX = "rpc error making call: "

# acl/errors.go
PERMISSION_DENIED = "Permission denied"
ACL_NOT_FOUND = "ACL not found"
ROOT_ACL = "Cannot resolve root ACL"
# acl/errors.go: PermissionDeniedError.Error() for a resource with a segment
PERMISSION_DENIED_DETAIL = (
    "Permission denied: token with AccessorID '{accessor}' lacks permission '{resource}:{access}'"
    ' on "{segment}"'
)
ANONYMOUS_DETAIL = "anonymous token"

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
# agent/http.go: handleErr for an HTTPError without a reason
UNEXPECTED_ERROR = "An unexpected error occurred"

# agent/agent_endpoint.go: AgentRegisterService / AgentDeregisterService
REQUEST_DECODE_FAILED = "Request decode failed: {error}"
MISSING_SERVICE_NAME = "Missing service name"
INVALID_SERVICE_ADDRESS = "Invalid service address"
# agent/acl.go: vetServiceUpdateWithAuthorizer (404; the ID is formatted with Go's %q)
UNKNOWN_SERVICE_ID = (
    "Unknown service ID {service_id}. Ensure that the service ID is passed, not the service name."
)
# lib/json.go DecodeJSON with DisallowUnknownFields
UNKNOWN_FIELD = 'json: unknown field "{field}"'

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
