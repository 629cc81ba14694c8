"""Metrics: how well a learned dictionary recovers a known one."""

from ._dictionary import atom_matching_error, atom_recovery_rate, dictionary_recovery_error

__all__ = ["atom_matching_error", "atom_recovery_rate", "dictionary_recovery_error"]
