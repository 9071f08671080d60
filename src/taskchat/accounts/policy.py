"""Which passwords a new account may choose, after NIST SP 800-63B (section 3.1.1.2):
at least 8 characters, not only blanks, not the account's email, not a common password.
No composition rules (a digit, a symbol...) and no expiry, as NIST advises.

The rules apply when a password is chosen, never at sign-in: an account whose password
predates them keeps signing in with it.

The common passwords are `common-passwords.txt.gz` beside this module: the entries of
Django 6.1.3's `django/contrib/auth/common-passwords.txt.gz` (BSD-3-Clause, its license in
`common-passwords.LICENSE` beside it) that have at least MIN_LENGTH characters, 8,354 of
its 19,640, most common first as there. Django's list is Royce Williams' cut of the
passwords most often seen in Have I Been Pwned's Pwned Passwords, lowercased and
deduplicated; the shorter entries are left out because the length rule already refuses
them. `scripts/cut_common_passwords.py` makes the file from the Django wheel. (Depending
on Django itself for one data file would pull a whole web framework into the image.)
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from taskchat.errors import ProblemError

MIN_LENGTH = 8
"""Fewest characters (Unicode code points, blanks included) in a new password."""

MAX_LENGTH = 256
"""Most characters in any password sent to us, new or not (a bound on hashing work)."""

COMMON_PASSWORDS_FILE = "common-passwords.txt.gz"
"""The common-passwords list, one lowercase entry a line, in this package."""

_TOO_SHORT = f"Choose a password of at least {MIN_LENGTH} characters."
_ONLY_BLANKS = "A password of only spaces is easy to guess; choose one with letters or symbols."
_IS_EMAIL = "A password cannot be your email address or the part before its @; choose another."
_TOO_COMMON = (
    "That password is too common: it is on the list of passwords attackers try first. "
    "Choose another; a few unrelated words are long and easy to remember."
)


class WeakPasswordError(ProblemError):
    """A new password breaks a rule; the sentence says which, never the password itself."""

    status = 400
    code = "weak_password"


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords, read on first use and kept."""
    packed = resources.files("taskchat.accounts").joinpath(COMMON_PASSWORDS_FILE)
    return frozenset(gzip.decompress(packed.read_bytes()).decode("utf-8").splitlines())


def check_new_password(password: str, *, email: str) -> None:
    """Refuse `password` for a new account with `email` (WeakPasswordError), or return.

    Cheap: call it before hashing. The password is compared without its surrounding
    blanks and lowercased (the list is lowercase), but is never changed or cut: what was
    given is what gets hashed.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(_TOO_SHORT)
    bare = password.strip()
    if not bare:
        raise WeakPasswordError(_ONLY_BLANKS)
    folded = bare.lower()
    address = email.strip().lower()
    # The local part too: whoever tries to sign in as this account knows the email, and
    # "the name before the @" is the first guess after the address itself.
    if folded in (address, address.rpartition("@")[0]):
        raise WeakPasswordError(_IS_EMAIL)
    if folded in common_passwords():
        raise WeakPasswordError(_TOO_COMMON)
