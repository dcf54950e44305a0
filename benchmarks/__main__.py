"""``python -m benchmarks SWEEP.yaml [options]``: ``fairautoml bench`` with this repository's
anchors and targets registered (every option of ``fairautoml bench`` applies)."""

from __future__ import annotations

import sys

import benchmarks  # noqa: F401  (registers the anchors and the report section)
from fairautoml.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
