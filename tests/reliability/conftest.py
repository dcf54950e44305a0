from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """One BLAS/OpenMP thread, as n_jobs=1 means: on a shared 2-core machine, BLAS's default
    thread pool makes scikit-learn's lbfgs several times slower."""
    with threadpool_limits(limits=1):
        yield
