"""The user event as Consul's agent holds it, its ID format and the list index derived from it."""

from __future__ import annotations

import dataclasses
import random
import re

USER_EVENT_VERSION = 1
"""``userEventMaxVersion`` in agent/user_event.go: every event is fired with this version."""

REMOTE_EXEC_NAME = "_rexec"
"""Events of this name drive ``consul exec`` and are never stored in the list."""


@dataclasses.dataclass(frozen=True)
class UserEvent:
    """One user event, with the fields and meaning of Consul's ``agent.UserEvent``.

    ``payload`` is ``None`` when the event was fired without a body. ``ltime`` is the serf
    Lamport time this agent received the event at; it is 0 in the answer to a fire, as in Consul.
    """

    id: str
    name: str
    payload: bytes | None = None
    node_filter: str = ""
    service_filter: str = ""
    tag_filter: str = ""
    version: int = USER_EVENT_VERSION
    ltime: int = 0

    @property
    def index(self) -> int:
        """The ``X-Consul-Index`` of a list ending with this event (see :func:`id_to_index`)."""
        return id_to_index(self.id)


def new_event_id(rng: random.Random) -> str:
    """Return an ID as hashicorp/go-uuid makes it: 16 random bytes in 8-4-4-4-12 lowercase hex.

    Unlike :func:`uuid.uuid4` no version or variant bits are set, so every hex digit is random.
    The bytes come from ``rng``, so a seeded agent produces the same IDs again.
    """
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


_EVENT_ID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def id_to_index(event_id: str) -> int:
    """Fold an event ID into the list index exactly as Consul's ``uuidToUint64`` does.

    The first 16 hex digits and the last 16 are read as two unsigned 64-bit numbers and XORed.
    The result is not monotonic in the order events were fired.

    Raises:
        ValueError: ``event_id`` is not in the 8-4-4-4-12 hex form.
    """
    if _EVENT_ID.fullmatch(event_id) is None:
        raise ValueError(f"not an event ID: {event_id!r}")
    lower = int(event_id[0:8] + event_id[9:13] + event_id[14:18], 16)
    upper = int(event_id[19:23] + event_id[24:36], 16)
    return lower ^ upper
