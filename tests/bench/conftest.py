from __future__ import annotations

import pytest

from fairautoml.bench import plugins


@pytest.fixture(autouse=True)
def no_plugins():
    """The bench as installed: no methods or report sections registered from outside (the
    repository's ``benchmarks`` package registers its own when a test imports it)."""
    methods, sections = dict(plugins.METHODS), list(plugins.SECTIONS)
    plugins.METHODS.clear()
    plugins.SECTIONS.clear()
    yield
    plugins.METHODS.update(methods)
    plugins.SECTIONS[:] = sections
