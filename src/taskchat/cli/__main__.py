"""`python -m taskchat.cli`: the `taskchat` command."""

from taskchat.cli import main

main()
