"""`python -m newsbot` is the `newsbot` command."""

from newsbot.command import main

main()
