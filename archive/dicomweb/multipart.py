"""multipart/related bodies (RFC 2387) as PS3.18 uses them: streamed out, parsed in."""

from __future__ import annotations

import mmap
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["BodyTooLarge", "Part", "iter_parts", "multipart_stream", "new_boundary", "spool"]

CHUNK = 256 * 1024
_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


class BodyTooLarge(Exception):
    pass


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


def spool(stream: IO[bytes], limit: int) -> IO[bytes]:
    """Copy a request body to a temporary file, refusing more than ``limit`` bytes."""
    out = tempfile.TemporaryFile()
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
        if total > limit:
            out.close()
            raise BodyTooLarge
        out.write(chunk)
    out.flush()
    return out


@dataclass
class Part:
    content_type: str
    data: memoryview


def iter_parts(body: IO[bytes], boundary: str) -> Iterator[Part]:
    """Parts of a spooled multipart body, without copying them (views into an mmap)."""
    body.seek(0, 2)
    if body.tell() == 0:
        return
    view = mmap.mmap(body.fileno(), 0, access=mmap.ACCESS_READ)
    delimiter = b"--" + boundary.encode()
    position = view.find(delimiter)
    while position != -1:
        start = position + len(delimiter)
        if view[start : start + 2] == b"--":
            break
        header_end = view.find(b"\r\n\r\n", start)
        if header_end == -1:
            break
        headers = bytes(view[start:header_end]).decode("latin-1")
        following = view.find(b"\r\n" + delimiter, header_end + 4)
        if following == -1:
            break
        content_type = ""
        for line in headers.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                content_type = value.strip()
        yield Part(content_type, memoryview(view)[header_end + 4 : following])
        position = following + 2
