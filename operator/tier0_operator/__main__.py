"""Entry point for `python -m tier0_operator`."""

from tier0_operator.main import main

main()
