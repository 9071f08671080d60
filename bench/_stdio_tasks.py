"""The tasks tools served over stdio for one user: the baseline of bench/mcp_overhead.py.

python -m bench._stdio_tasks USER_ID   (DATABASE_URL from the environment)
"""

from __future__ import annotations

import os
import sys

from taskchat.db.engine import create_engine
from taskchat.tools.tasks import tasks_server_for_user


def main() -> None:
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
    tasks_server_for_user(engine, sys.argv[1]).run("stdio")


if __name__ == "__main__":
    main()
