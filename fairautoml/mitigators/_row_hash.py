"""Per-row uniform draws from hashes, for the rules that decide some rows at random: a
row's draw depends on the row (its scores, group and key) and the seed only, so the same
row always gets the same draw, whatever the batch it comes in."""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEED_MIX = 0xD1B54A32D192ED03
_KEY_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a fixed, well-mixed bijection of uint64 (wraps by design)."""
    with np.errstate(over="ignore"):
        z = x + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def seed_word(seed: int) -> np.uint64:
    return np.uint64((seed * _SEED_MIX) % 2**64)


def to_uniform(x: np.ndarray) -> np.ndarray:
    """Hashes as uniform draws in (0, 1] (their top 53 bits)."""
    return ((x >> np.uint64(11)).astype(np.float64) + 1.0) / 2.0**53


def row_uniform(
    scores: np.ndarray, groups: np.ndarray, seed: int, row_keys: np.ndarray | None = None
) -> np.ndarray:
    """A uniform draw in (0, 1] per row: a SplitMix64 hash of (score, group, seed), and of
    the row's key (:func:`~fairautoml.mitigators._base.row_keys`) when given. Without keys,
    rows tied on score and group share one draw."""
    x = np.ascontiguousarray(scores, dtype=np.float64).view(np.uint64).copy()
    with np.errstate(over="ignore"):
        if row_keys is not None:
            x ^= np.asarray(row_keys, dtype=np.uint64) * _KEY_MIX
        x ^= np.asarray(groups).astype(np.uint64) * GOLDEN
    x ^= seed_word(seed)
    return to_uniform(splitmix64(x))


def row_uniform_matrix(
    scores: np.ndarray, keys: np.ndarray | None, seed: int, row_keys: np.ndarray | None = None
) -> np.ndarray:
    """A uniform draw in (0, 1] per row: a SplitMix64 hash chained over the row's scores,
    then its key (the group code, or nothing), its key from its features (or nothing), and
    the seed."""
    s = np.ascontiguousarray(scores, dtype=np.float64)
    x = np.full(len(s), seed_word(seed), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in s.T:
            x = splitmix64(x ^ np.ascontiguousarray(col).view(np.uint64))
        if keys is not None:
            x = splitmix64(x ^ (np.asarray(keys).astype(np.uint64) * GOLDEN))
        if row_keys is not None:
            x = splitmix64(x ^ np.asarray(row_keys, dtype=np.uint64))
    return to_uniform(x)
