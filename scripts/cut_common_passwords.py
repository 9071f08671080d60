"""Cut the common-passwords list that taskchat/accounts/policy.py checks, from a Django wheel.

    python3 -m pip download django==6.1.3 --no-deps --only-binary=:all: \
        --python-version 3.13 -d /tmp/dj
    uv run python scripts/cut_common_passwords.py /tmp/dj/django-6.1.3-py3-none-any.whl

Django's `django/contrib/auth/common-passwords.txt.gz` holds 19,640 passwords, lowercased
and deduplicated, most common first. This keeps, in that order, the ones the length rule
does not already refuse (at least MIN_LENGTH code points): a shorter entry could never be
chosen, so vendoring it would only cost memory. It writes the list next to policy.py
(gzip without a timestamp, so the same wheel gives the same bytes) with Django's license.
Run it again after changing MIN_LENGTH or moving to a newer Django.
"""

from __future__ import annotations

import gzip
import sys
import zipfile
from pathlib import Path

from taskchat.accounts.policy import COMMON_PASSWORDS_FILE, MIN_LENGTH

SOURCE = "django/contrib/auth/common-passwords.txt.gz"
TARGET = Path(__file__).resolve().parents[1] / "src" / "taskchat" / "accounts"


def main(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        listed = gzip.decompress(archive.read(SOURCE)).decode("utf-8").splitlines()
        [license_path] = [
            name for name in archive.namelist() if name.endswith(".dist-info/licenses/LICENSE")
        ]
        license_text = archive.read(license_path)
    kept = [entry for entry in listed if len(entry) >= MIN_LENGTH]
    data = "".join(f"{entry}\n" for entry in kept).encode("utf-8")
    (TARGET / COMMON_PASSWORDS_FILE).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    (TARGET / "common-passwords.LICENSE").write_bytes(license_text)
    print(f"{wheel.name}: kept {len(kept):,} of {len(listed):,} entries")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
