"""Which files may be attached, told from their names, declared types and bytes."""

from __future__ import annotations

import pytest

from taskchat.files.kinds import (
    CSV,
    GIF,
    JPEG,
    MARKDOWN,
    PNG,
    TEXT,
    WEBP,
    FileKindError,
    check_content,
    declared_kind,
    file_name,
    sniffed_image,
)
from tests.support.attachments import png


@pytest.mark.parametrize(
    ("name", "mime_type", "kind"),
    [
        ("photo.JPG", "image/jpeg", JPEG),
        ("photo.jpeg", "image/jpg", JPEG),
        ("notes.md", "", MARKDOWN),
        ("notes.markdown", "text/x-markdown", MARKDOWN),
        ("table.csv", "application/octet-stream", CSV),
        ("log.txt", "text/plain; charset=utf-8", TEXT),
        ("anim.gif", "IMAGE/GIF", GIF),
    ],
)
def test_names_and_declared_types_that_agree_give_their_kind(
    name: str, mime_type: str, kind: object
) -> None:
    assert declared_kind(name, mime_type) is kind


def test_an_unknown_type_without_a_known_extension_is_refused() -> None:
    with pytest.raises(FileKindError, match="its type is not known"):
        declared_kind("README", "")


def test_names_keep_only_their_last_segment_and_refuse_control_characters() -> None:
    assert file_name("C:\\Users\\me\\photo.png") == "photo.png"
    assert file_name("../../etc/passwd.txt") == "passwd.txt"
    with pytest.raises(FileKindError):
        file_name("  ")
    with pytest.raises(FileKindError):
        file_name("a\r\nSet-Cookie: x.txt")
    with pytest.raises(FileKindError):
        file_name("x" * 201 + ".txt")


def test_images_are_told_by_their_magic_bytes() -> None:
    assert sniffed_image(png()) is PNG
    assert sniffed_image(b"\xff\xd8\xff\xe0\x00\x10JFIF") is JPEG
    assert sniffed_image(b"GIF87a\x01\x00") is GIF
    assert sniffed_image(b"RIFF\x24\x00\x00\x00WEBPVP8 ") is WEBP
    assert sniffed_image(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None
    assert sniffed_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


def test_text_with_a_byte_order_mark_is_text() -> None:
    check_content(TEXT, "\ufeffhello".encode())
    with pytest.raises(FileKindError, match="not UTF-8"):
        check_content(TEXT, "hello".encode("utf-16"))
