"""multipart/related bodies (RFC 2387) as PS3.18 uses them: streamed out, and parsed in as a
stream (a STOW-RS body of any size is never held in memory)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

__all__ = [
    "MalformedBody",
    "StreamedBody",
    "boundary_of",
    "file_chunks",
    "multipart_stream",
    "new_boundary",
    "stream_parts",
]

CHUNK = 256 * 1024
_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def new_boundary() -> str:
    return f"ta-{uuid.uuid4().hex}"


def multipart_stream(
    parts: Iterable[tuple[str, Iterable[bytes]]], boundary: str
) -> Iterator[bytes]:
    """Yield a multipart/related body from (content type, chunks) pairs."""
    for content_type, chunks in parts:
        yield f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode()
        yield from chunks
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def file_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def boundary_of(content_type: str) -> str | None:
    match = _BOUNDARY_RE.search(content_type or "")
    return match.group(1).strip() if match else None


#: Longest header block accepted for one part (a few Content-* lines are all PS3.18 needs).
MAX_PART_HEADERS = 16 * 1024


class MalformedBody(Exception):
    """The body is not multipart/related with the announced boundary."""


@dataclass
class StreamedBody:
    parts: int  # parts opened, the incomplete last one included
    truncated: bool  # the body ended inside the last part (its data is incomplete)


def _content_type(headers: bytes) -> str:
    for line in headers.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            return value.strip()
    return ""


def stream_parts(
    stream: IO[bytes], boundary: str, open_part: Callable[[str], Callable[[bytes], None]]
) -> StreamedBody:
    """Feed each part of a multipart/related body to a writer, chunk by chunk.

    ``open_part(content_type)`` is called at the start of each part and returns the callable
    that receives the part's bytes (in as many chunks as it takes). Memory stays bounded by a
    chunk and the boundary, whatever the size of the body: nothing is kept but the bytes that
    might be the start of a delimiter. Raises ``MalformedBody`` when a non-empty body holds no
    delimiter or a part's headers never end.
    """
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    keep = len(delimiter) - 1
    # A CRLF in front gives the first delimiter the same form as the others (RFC 2046 5.1.1).
    buffer = b"\r\n"
    eof = False
    seen_data = False

    def fill() -> None:
        nonlocal buffer, eof, seen_data
        chunk = stream.read(CHUNK)
        if chunk:
            seen_data = True
            buffer += chunk
        else:
            eof = True

    def until(marker: bytes, limit: int) -> int:
        while (found := buffer.find(marker)) < 0:
            if eof or len(buffer) > limit:
                raise MalformedBody
            fill()
        return found

    # The preamble, if any, is ignored.
    while (found := buffer.find(delimiter)) < 0:
        if eof:
            if not seen_data:
                return StreamedBody(parts=0, truncated=False)
            raise MalformedBody
        buffer = buffer[-keep:]
        fill()
    buffer = buffer[found + len(delimiter) :]
    parts = 0
    while True:
        while len(buffer) < 2 and not eof:
            fill()
        if buffer[:2] == b"--" or (eof and not buffer):
            # The close delimiter (or a body that simply stops after one): the epilogue is
            # ignored.
            return StreamedBody(parts=parts, truncated=False)
        line_end = until(b"\r\n", MAX_PART_HEADERS)  # transport padding after the boundary
        buffer = buffer[line_end + 2 :]
        if buffer.startswith(b"\r\n"):
            headers, buffer = b"", buffer[2:]
        else:
            header_end = until(b"\r\n\r\n", MAX_PART_HEADERS)
            headers, buffer = buffer[:header_end], buffer[header_end + 4 :]
        write = open_part(_content_type(headers))
        parts += 1
        while (found := buffer.find(delimiter)) < 0:
            if eof:
                if buffer:
                    write(buffer)
                return StreamedBody(parts=parts, truncated=True)
            if len(buffer) > keep:
                write(buffer[:-keep])
                buffer = buffer[-keep:]
            fill()
        if found:
            write(buffer[:found])
        buffer = buffer[found + len(delimiter) :]
