"""``python -m cmhook`` is the ``cmhook`` command."""

import sys

from harness.cli import main

sys.exit(main())
