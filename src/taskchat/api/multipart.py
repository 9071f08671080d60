"""Reading one uploaded file from a `multipart/form-data` body, within a size limit.

What ChatKit's two-phase upload sends (a `file` field) and what the built-in UI sends too.
The body is parsed as it streams in and the file kept in memory: past the limit the upload
is refused at once (413), with nothing more read. No temporary files (the container's root
filesystem is read-only, and a file is at most ATTACHMENT_MAX_BYTES).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from taskchat.errors import ProblemError
from taskchat.files.storage import FileTooLargeError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
"""The form field that carries the file."""

OVERHEAD_MAX = 16 * 1024
"""Bytes a body may have besides the file: part headers, boundaries, small other fields."""


class UploadFormatError(ProblemError):
    """A body that is not a form with one file in its `file` field."""

    code = "invalid_upload"

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"{problem} Send the file as multipart/form-data, in a field named '{FIELD}'."
        )


async def read_file_field(request: Request, max_bytes: int) -> bytes:
    """The bytes of the body's `file` field; a 413 as soon as the file, or the body, is over
    `max_bytes` (plus the form's own overhead), a 400 for any other body."""
    mime, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UploadFormatError("The upload is not a multipart form.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + OVERHEAD_MAX:
        raise FileTooLargeError(max_bytes)
    form = _Form(max_bytes)
    parser = MultipartParser(boundary, form.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + OVERHEAD_MAX:
                raise FileTooLargeError(max_bytes)
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise UploadFormatError("The upload's form could not be read.") from None
    if form.file is None or not form.complete:
        raise UploadFormatError(f"The upload has no '{FIELD}' field.")
    return bytes(form.file)


class _Form:
    """The parser's callbacks: keeps the first `file` part's bytes, and skips the rest."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.file: bytearray | None = None
        self.complete = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._taking = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._taking = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        # Only the first part named `file`: another would be a second file.
        self._taking = options.get(b"name") == FIELD.encode() and self.file is None
        if self._taking:
            self.file = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._taking and self.file is not None:
            self.file += data[start:end]
            if len(self.file) > self.max_bytes:
                raise FileTooLargeError(self.max_bytes)

    def _part_end(self) -> None:
        if self._taking:
            self.complete = True
            self._taking = False
