"""Learned (unfolded) ISTA and IHT, and the LISTA family, trained with hand-derived gradients."""

__all__ = []
