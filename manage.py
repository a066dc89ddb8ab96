#!/usr/bin/env python
"""Django's command-line utility for Modelgate."""

import os
import sys


def main() -> None:
    from console import devenv

    devenv.load()  # `make run`'s var/dev.env, so the README's commands need no exports
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
