"""The kinds of file a person may attach, and how each is recognised from its bytes.

Images (PNG, JPEG, WebP, GIF) go to the model as image input; text files (plain, Markdown,
CSV, JSON) as their text. Nothing else: SVG can carry scripts, and other formats would need
converting first. The type is taken from the content, never from the client: the declared
MIME type and the name's extension must both agree with what the bytes are, or the answer
is a 400 that says which one did not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from taskchat.errors import ProblemError

NAME_MAX = 200
"""The longest file name kept, in characters."""

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them: in a file name, "\u202egnp.txt" shows as
"txt.png", a text file dressed as an image."""


@dataclass(frozen=True, slots=True)
class Kind:
    """An accepted kind of file."""

    mime: str
    """The MIME type it is stored and served as."""

    label: str
    """What it is, in words ("a PNG image")."""

    extensions: tuple[str, ...]
    """The name endings it may have, lowercase, the usual one first."""

    image: bool
    """Sent to the model as an image (else as text)."""


PNG = Kind("image/png", "a PNG image", (".png",), image=True)
JPEG = Kind("image/jpeg", "a JPEG image", (".jpg", ".jpeg"), image=True)
WEBP = Kind("image/webp", "a WebP image", (".webp",), image=True)
GIF = Kind("image/gif", "a GIF image", (".gif",), image=True)
TEXT = Kind("text/plain", "a plain text file", (".txt", ".text", ".log"), image=False)
MARKDOWN = Kind("text/markdown", "a Markdown file", (".md", ".markdown"), image=False)
CSV = Kind("text/csv", "a CSV file", (".csv",), image=False)
JSON = Kind("application/json", "a JSON file", (".json",), image=False)

KINDS = (PNG, JPEG, WEBP, GIF, TEXT, MARKDOWN, CSV, JSON)
"""Every accepted kind."""

ACCEPTED = "PNG, JPEG, WebP or GIF images, or plain text, Markdown, CSV or JSON files"
"""The accepted kinds, in words, for error sentences."""

_BY_MIME = {kind.mime: kind for kind in KINDS} | {
    # Other names browsers and systems give the same kinds.
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "text/x-markdown": MARKDOWN,
    "text/x-csv": CSV,
    "application/csv": CSV,
}
_BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}
_UNSPECIFIED = frozenset({"", "application/octet-stream"})
"""What a browser sends for a type it does not know (a `.md` file on many systems): the
name's extension decides then, and the content is still checked against it."""


class FileKindError(ProblemError):
    """A file that is not, or does not look like, an accepted kind."""

    status = 400
    code = "unsupported_file"


def file_name(name: str) -> str:
    """The name to keep for an attached file: its last path segment, trimmed; a 400 when
    empty, too long, or holding control characters (it ends up in a response header) or
    characters that reorder how it reads."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise FileKindError("The file needs a name, such as notes.txt or photo.png.")
    if len(name) > NAME_MAX:
        raise FileKindError(f"The file name is longer than {NAME_MAX} characters; rename it.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise FileKindError("The file name contains control characters; rename it.")
    if not BIDI_CONTROLS.isdisjoint(name):
        raise FileKindError(
            "The file name contains characters that change the direction of its text, "
            "which can disguise its type; rename it."
        )
    return name


def declared_kind(name: str, mime_type: str) -> Kind:
    """The kind a file's name and declared MIME type agree on; a 400 naming what was wrong
    when they name no accepted kind, or different ones."""
    mime = mime_type.split(";", 1)[0].strip().lower()
    extension = PurePosixPath(name).suffix.lower()
    by_extension = _BY_EXTENSION.get(extension)
    by_mime = by_extension if mime in _UNSPECIFIED else _BY_MIME.get(mime)
    if by_mime is None:
        if mime == "image/svg+xml" or extension == ".svg":
            raise FileKindError(
                f"{name} is an SVG image, which cannot be attached (SVG can carry scripts); "
                "attach it as a PNG instead."
            )
        what = f"its type is {mime}" if mime not in _UNSPECIFIED else "its type is not known"
        raise FileKindError(f"{name} cannot be attached ({what}): attach {ACCEPTED}.")
    if by_extension is None:
        endings = " or ".join(by_mime.extensions)
        raise FileKindError(
            f"{name} is declared as {by_mime.label} ({by_mime.mime}), so its name must end "
            f"in {endings}."
        )
    if by_extension is not by_mime:
        raise FileKindError(
            f"{name} is declared as {by_mime.label} ({mime}), but its name ends in "
            f"{extension}, which is {by_extension.label}."
        )
    return by_mime


def sniffed_image(content: bytes) -> Kind | None:
    """The accepted image kind `content` starts like, if any (its magic bytes)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    return None


def check_content(kind: Kind, content: bytes) -> None:
    """A 400 unless `content` is what `kind` says: the image its magic bytes name, or text
    that PostgreSQL and the model can take (UTF-8, no NUL; JSON that parses)."""
    if not content:
        raise FileKindError("The file is empty.")
    found = sniffed_image(content)
    if kind.image:
        if found is not kind:
            actual = found.label if found else "not an image of an accepted kind"
            raise FileKindError(
                f"The file was declared as {kind.label}, but its content is {actual}."
            )
        return
    if found is not None:
        raise FileKindError(
            f"The file was declared as {kind.label}, but its content is {found.label}."
        )
    text = decoded_text(content)
    if kind is JSON:
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            raise FileKindError(
                "The file was declared as JSON, but it does not parse as JSON."
            ) from None


def decoded_text(content: bytes) -> str:
    """The text of a text file (UTF-8, a byte-order mark dropped); a 400 for bytes that are
    not UTF-8 or hold a NUL, which the model request and PostgreSQL cannot carry."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileKindError(
            f"The file is not UTF-8 text (byte {error.start} is not valid UTF-8); "
            "save it as UTF-8 and attach it again."
        ) from None
    if "\x00" in text:
        raise FileKindError("The file holds NUL characters, so it is not a text file.")
    return text


__all__ = [
    "ACCEPTED",
    "KINDS",
    "FileKindError",
    "Kind",
    "check_content",
    "declared_kind",
    "decoded_text",
    "file_name",
    "sniffed_image",
]
