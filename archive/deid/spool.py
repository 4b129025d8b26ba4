"""Bulk values and written files held in bounded memory (issue #18).

A long cine's Pixel Data is hundreds of MiB (a 600-frame 512x512 RGB native cine: 450 MiB, up
to the 4 GiB a file may declare): it must not be held in memory once in the dataset and again as
the written file.  Two buffers, both :class:`io.BufferedIOBase` so that pydicom takes them as an
element's value (it writes such a value to the file in pieces and decodes frames from it one at a
time, see ``DataElement.is_buffered``):

* :class:`Spool` — written once, then read: in memory up to :data:`SPOOL_MEMORY` bytes, then in
  an unnamed temporary file (``tempfile.TemporaryFile``: mode 0600, no name that could leak,
  gone when closed or when the process dies) in :func:`spool_directory`.  The cleaner writes
  each finished frame into one (``encoding.FrameWriter``), the engine writes the Part-10 file
  into another (``DeidResult.written``), which the worker streams into storage.
* :class:`ByteView` — a read-only view of part of the received bytes, without a copy (the
  input's Pixel Data, ``reading.read_dataset``, when the file was given as bytes);
* :class:`FileView` — the same over part of the received *file*, open for reading: the worker
  hands the engine the received file, not its bytes, so that a cine's Pixel Data is read from
  the disk a frame at a time and never held whole (``archive.services.processing``).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

__all__ = [
    "SPOOL_MEMORY",
    "ByteView",
    "FileView",
    "Spool",
    "buffer_size",
    "configure",
    "own_reader",
    "pieces",
    "rewound",
    "spool_directory",
]

#: Bytes a :class:`Spool` keeps in memory before it moves into a temporary file: a CT or MR
#: slice (0.5 MiB) and a radiograph (10-30 MiB written losslessly: not all) stay in memory,
#: a cine goes to disk.  Memory per file is then one frame plus this, whatever the frame count.
SPOOL_MEMORY = 8 << 20

#: Pieces in which spooled values are copied and searched.
PIECE = 4 << 20

_directory: str | None = None


def configure(directory: str | os.PathLike | None) -> None:
    """Put temporary files of spools in ``directory`` (an owner-only folder: the worker gives
    its incoming area, where the received files wait too); ``None``: the system's."""
    global _directory
    _directory = None if directory is None else os.fspath(directory)


def spool_directory() -> str | None:
    return _directory


class Spool(io.BufferedIOBase):
    """A seekable binary file in memory until it grows past ``max_memory`` bytes, then in an
    unnamed temporary file.  ``rolled``: whether it is on disk."""

    def __init__(self, max_memory: int | None = None) -> None:
        super().__init__()
        self.max_memory = SPOOL_MEMORY if max_memory is None else max_memory
        self._file: io.BytesIO | io.BufferedRandom = io.BytesIO()
        self.rolled = False

    def _roll(self) -> None:
        memory = self._file
        if not isinstance(memory, io.BytesIO):
            return  # already on disk
        target = tempfile.TemporaryFile(dir=_directory)  # noqa: SIM115 - closed with the spool
        position = memory.tell()
        with memory.getbuffer() as held:
            target.write(held)
        target.seek(position)
        memory.close()
        self._file = target
        self.rolled = True

    def write(self, data) -> int:  # type: ignore[override]
        size = memoryview(data).nbytes
        if not self.rolled and self._file.tell() + size > self.max_memory:
            self._roll()
        return self._file.write(data)

    def read(self, size: int | None = -1) -> bytes:
        return self._file.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readinto(self, buffer) -> int:  # type: ignore[override]
        return self._file.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def truncate(self, size: int | None = None) -> int:
        return self._file.truncate(size)

    def flush(self) -> None:
        if not self.closed:
            self._file.flush()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes first
            self._file.close()

    @property
    def size(self) -> int:
        """Bytes written (Django's ``File.size`` asks for it)."""
        position = self._file.tell()
        end = self._file.seek(0, io.SEEK_END)
        self._file.seek(position)
        return end

    def getvalue(self) -> bytes:
        """Everything written, as bytes (for a small file, or a test)."""
        if not self.rolled:
            return self._file.getvalue()  # type: ignore[union-attr]
        position = self._file.tell()
        self._file.seek(0)
        data = self._file.read()
        self._file.seek(position)
        return data


class _View(io.BufferedIOBase):
    """A read-only part of something as a seekable file with its own position: what
    :class:`ByteView` and :class:`FileView` share (they differ in where the bytes are)."""

    _position = 0

    def __len__(self) -> int:
        raise NotImplementedError

    def clone(self) -> _View:
        """Another view of the same bytes, at its start."""
        raise NotImplementedError

    def __deepcopy__(self, memo) -> _View:
        return self.clone()  # read-only: a copy of the dataset may share the bytes or the file

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self)}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


class ByteView(_View):
    """``data[start:end]`` as a read-only seekable file, without copying it."""

    def __init__(self, data: bytes | memoryview, start: int = 0, end: int | None = None) -> None:
        super().__init__()
        self._view = memoryview(data)[start:end]
        self._position = 0

    def __len__(self) -> int:
        return self._view.nbytes

    def clone(self) -> ByteView:
        """Another view of the same bytes, at its start."""
        return ByteView(self._view)

    def read(self, size: int | None = -1) -> bytes:
        start = self._position
        stop = self._view.nbytes if size is None or size < 0 else min(start + size, len(self))
        self._position = max(start, stop)
        return bytes(self._view[start:stop])

    read1 = read

    def readinto(self, buffer) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        data = self._view[self._position : self._position + target.nbytes]
        target[: data.nbytes] = data
        self._position += data.nbytes
        return data.nbytes

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._view.release()


class FileView(_View):
    """``fp[start:end]`` of an open, seekable binary file as a read-only file of its own.

    Views of one file take turns (a decoder's pass and the original fragments kept beside it):
    each keeps its own position and seeks the file before every read.  Closing a view leaves
    the file open: it is its opener's, who closes it once the result is closed."""

    def __init__(self, fp, start: int = 0, end: int | None = None) -> None:
        super().__init__()
        self._fp = fp
        self._start = start
        self._end = buffer_size(fp) if end is None else end
        self._position = 0

    def __len__(self) -> int:
        return self._end - self._start

    def clone(self) -> FileView:
        """Another view of the same part of the file, at its start."""
        return FileView(self._fp, self._start, self._end)

    def _remaining(self, size: int | None) -> int:
        left = max(0, len(self) - self._position)
        return left if size is None or size < 0 else min(size, left)

    def read(self, size: int | None = -1) -> bytes:
        count = self._remaining(size)
        if not count:
            return b""
        self._fp.seek(self._start + self._position)
        data = self._fp.read(count)
        self._position += len(data)
        return data

    read1 = read

    def readinto(self, buffer) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        count = self._remaining(target.nbytes)
        if not count:
            return 0
        self._fp.seek(self._start + self._position)
        got = self._fp.readinto(target[:count]) or 0
        self._position += got
        return got


def own_reader(value: bytes | io.BufferedIOBase) -> bytes | io.BufferedIOBase:
    """A buffered value to read at one's own pace, at its start: pydicom reads a buffered
    value from wherever its position is, so two readers taking turns (the decoder of a pass
    over the frames and the original fragments kept for the frames not redacted) each need
    their own.  A :class:`ByteView` gives a new view of the same bytes (no copy); bytes stay
    bytes; another buffer (a spool read again) is read whole, as bytes."""
    if isinstance(value, ByteView):
        return value.clone()
    if isinstance(value, io.BufferedIOBase):
        position = value.tell()
        value.seek(0)
        data = value.read()
        value.seek(position)
        return data
    return value


@contextmanager
def rewound(ds) -> Iterator[None]:
    """``ds``'s Pixel Data, if buffered, read from its start inside the block and left at its
    start after it (pydicom reads and writes a buffered value from its position: a pass over
    the frames that stops at the end would leave nothing for the next reader)."""
    value = getattr(ds._dict.get(0x7FE00010), "value", None)
    buffered = value if isinstance(value, io.BufferedIOBase) else None
    if buffered is not None:
        buffered.seek(0)
    try:
        yield
    finally:
        if buffered is not None and not buffered.closed:
            buffered.seek(0)


def buffer_size(buffer: io.BufferedIOBase | BinaryIO) -> int:
    """Bytes in a buffered value, from its start (its position is kept)."""
    position = buffer.tell()
    end = buffer.seek(0, io.SEEK_END)
    buffer.seek(position)
    return end


def pieces(
    buffer: io.BufferedIOBase, start: int = 0, end: int | None = None, overlap: int = 0
) -> Iterator[bytes]:
    """``buffer[start:end]`` in pieces of :data:`PIECE` bytes, each reaching ``overlap`` bytes
    into the next (a substring of that length is whole in the piece it starts in); the
    buffer's position is kept."""
    position = buffer.tell()
    try:
        end = buffer_size(buffer) if end is None else end
        at = start
        while at < end:
            buffer.seek(at)
            piece = buffer.read(min(PIECE + overlap, end - at))
            if not piece:
                return
            yield piece
            at += PIECE
    finally:
        buffer.seek(position)
