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
from starlette.requests import ClientDisconnect, Request

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
    """The bytes of the body's `file` field; a 413 when the file is over `max_bytes`, a 400
    for any other body.

    A refusal waits for the end of the body (read and dropped), as long as the body stays
    within `max_bytes` and the form's allowance: a proxy still sending it when the answer
    came would see its connection reset instead of the answer. A body past that is
    refused at once (the frontend's proxy never sends one).
    """
    hard_limit = max_bytes + OVERHEAD_MAX
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > hard_limit:
        raise FileTooLargeError(max_bytes)
    mime, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    problem: ProblemError | None = None
    if mime != b"multipart/form-data" or not boundary:
        problem = UploadFormatError("The upload is not a multipart form.")
    form = _Form(max_bytes)
    parser = MultipartParser(boundary or b"-", form.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > hard_limit:
                raise FileTooLargeError(max_bytes)
            if problem is None:
                try:
                    parser.write(chunk)
                except FormParserError:
                    problem = UploadFormatError("The upload's form could not be read.")
        if problem is None:
            parser.finalize()
    except FormParserError:
        problem = UploadFormatError("The upload's form could not be read.")
    except ClientDisconnect:
        # Nobody reads this answer; it keeps a closed tab from counting as a server error.
        raise UploadFormatError("The upload was cut off before its end.") from None
    if problem is not None:
        raise problem
    if form.over:
        raise FileTooLargeError(max_bytes)
    if form.file is None or not form.complete:
        raise UploadFormatError(f"The upload has no '{FIELD}' field.")
    return bytes(form.file)


async def drain(request: Request, max_bytes: int) -> None:
    """Read and drop the body (up to `max_bytes` and the form's allowance) before refusing
    an upload that was not read: see `read_file_field`."""
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + OVERHEAD_MAX:
                return
    except ClientDisconnect:
        return


class _Form:
    """The parser's callbacks: keeps the first `file` part's bytes, and skips the rest."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.over = False
        """The file passed `max_bytes` (the rest of it was dropped)."""
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
        if self._taking and self.file is not None and not self.over:
            self.file += data[start:end]
            if len(self.file) > self.max_bytes:
                self.over = True
                self.file = bytearray()

    def _part_end(self) -> None:
        if self._taking:
            self.complete = True
            self._taking = False
