"""The password policy for new accounts (NIST SP 800-63B): long enough, not only blanks,
not the email, not on the common-passwords list; and the list itself."""

from __future__ import annotations

import gzip
from importlib import resources

import pytest

from taskchat.accounts import policy

EMAIL = "Ayesha.Khan@Example.org"


def refusal(password: str, email: str = EMAIL) -> policy.WeakPasswordError:
    with pytest.raises(policy.WeakPasswordError) as caught:
        policy.check_new_password(password, email=email)
    assert caught.value.status == 400 and caught.value.code == "weak_password"
    return caught.value


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "tangerine-kettle-orbit",
        "x" * policy.MAX_LENGTH,
        "\U0001f422" * 8,  # eight code points (32 bytes in UTF-8, 16 units in UTF-16)
        "ayesha.khan@example.org!",  # contains the email, is not it
        "  correct horse  ",  # blanks at the ends are kept, and count
    ],
)
def test_strong_passwords_pass(password: str) -> None:
    policy.check_new_password(password, email=EMAIL)


@pytest.mark.parametrize("password", ["", "short", "1234567", "\U0001f422" * 7, "ab  cd "])
def test_fewer_than_8_code_points_is_too_short(password: str) -> None:
    assert "at least 8 characters" in refusal(password).detail


@pytest.mark.parametrize("password", [" " * 8, "\t" * 8, " \t\n\r\u3000\u00a0  ", " " * 256])
def test_only_blanks_is_refused_however_long(password: str) -> None:
    assert "only spaces" in refusal(password).detail


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password",
        "PassWord1",
        "PASSWORD1",
        "Qwertyuiop",
        "iloveyou",
        "  password  ",  # padding a common password does not make it uncommon
        "friend of emily",  # an entry with spaces inside
        "ПЇЅПЇЅПЇЅПЇЅ",  # an entry that is not ASCII (U+FFFD's bytes read as cp1251), upper-cased
    ],
)
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    assert "common" in refusal(password).detail


@pytest.mark.parametrize(
    "password",
    [
        EMAIL,
        EMAIL.lower(),
        EMAIL.upper(),
        f" {EMAIL} ",
        "Ayesha.Khan",
        "ayesha.khan",
        "AYESHA.KHAN",
    ],
)
def test_the_email_or_its_local_part_is_refused(password: str) -> None:
    assert "email" in refusal(password).detail


@pytest.mark.parametrize(
    "password", ["12345678", "PassWord1", " " * 8, "short", EMAIL, "Ayesha.Khan"]
)
def test_the_sentence_never_holds_the_password(password: str) -> None:
    detail = refusal(password).detail
    assert (password.strip() or password) not in detail
    # One fixed sentence per rule: it does not vary with the password.
    assert detail in {
        refusal("1234567").detail,
        refusal(" " * 9).detail,
        refusal("password1").detail,
        refusal(EMAIL).detail,
    }


def test_the_list_is_the_vendored_cut_loaded_once() -> None:
    listed = policy.common_passwords()
    assert policy.common_passwords() is listed  # cached, not read per call
    raw = resources.files("taskchat.accounts").joinpath(policy.COMMON_PASSWORDS_FILE)
    lines = gzip.decompress(raw.read_bytes()).decode().splitlines()
    assert len(lines) == len(listed) == 8354
    # Every entry can be chosen past the length rule (so none is dead weight), and is
    # lowercase (the candidate is lowercased before the lookup).
    assert all(len(line) >= policy.MIN_LENGTH and line == line.lower() for line in lines)
    # Most common first, as in the source.
    assert lines[:3] == ["123456789", "password", "12345678"]
