"""``python -m fairautoml.cli``: the command line, as the ``fairautoml`` script runs it."""

import sys

from fairautoml.cli import main

sys.exit(main())
