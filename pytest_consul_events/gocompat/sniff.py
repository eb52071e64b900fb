"""Go's ``http.DetectContentType`` (``net/http/sniff.go``) for the bodies Consul leaves to it.

Consul writes its error answers with ``fmt.Fprint`` and no ``Content-Type``; Go's server then
sniffs the first 512 bytes of the body (``chunkWriter.writeHeader``), and so does gziphandler
before compressing. Every such body of the fake starts with one of Consul's fixed messages
(``Missing name``, ``Permission denied``, ``Request decode failed: ...``): a letter, which none
of the signatures Go tries before its text check can match (they need a first byte of ``<``,
``%``, a byte-order mark or a binary magic number; ``BM``, the bitmap signature, starts no
Consul message; the MP4 box test needs a body as long as its first four bytes read as a
number, over 1 GB for a letter). So only the last two steps are reproduced: the text check
(section 5, step 4, of the WHATWG MIME sniffing standard) and the fallback. A message that
echoes a client's bytes (a regular expression in a filter, say) can carry a control byte, and
then Go answers ``application/octet-stream``, as this does.
"""

from __future__ import annotations

from typing import Final

from pytest_consul_events import messages

__all__ = ["SNIFF_LEN", "detect_text_content_type"]

SNIFF_LEN: Final = 512
"""Go looks at no more than this many bytes."""

_BINARY_BYTES: Final = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])
"""The bytes ``textSig`` refuses: 0x00-0x08, 0x0B, 0x0E-0x1A, 0x1C-0x1F."""


def detect_text_content_type(data: bytes) -> str:
    """The ``Content-Type`` Go's ``DetectContentType`` gives a body starting with a letter.

    ``text/plain; charset=utf-8`` unless one of the first 512 bytes is a byte Go counts as
    binary; then ``application/octet-stream``. (Go starts the check past the leading white
    space, none of which is a binary byte.) An empty body is text too, though Go's server
    never sniffs one.
    """
    if _BINARY_BYTES.isdisjoint(data[:SNIFF_LEN]):
        return messages.CONTENT_TYPE_TEXT
    return messages.CONTENT_TYPE_BINARY
