"""Patches of the images bundled with scikit-learn."""

from __future__ import annotations

import numpy as np

from ..utils.validation import check_int

_IMAGES = {"china": "china.jpg", "flower": "flower.jpg"}


def load_image_patches(image="china", patch_size=(8, 8), n_patches=None, *, center=True,
                       dtype=np.float64, random_state=0, return_image=False):
    """Grayscale patches of scikit-learn's bundled sample images.

    Parameters
    ----------
    image : {"china", "flower"}, default="china"
        Which bundled image (``sklearn.datasets.load_sample_image``; needs Pillow).
    patch_size : tuple of int, default=(8, 8)
        Patch height and width.
    n_patches : int or None, default=None
        Number of random patches; ``None`` extracts all of them.
    center : bool, default=True
        Subtract each patch's mean (the usual preprocessing for sparse coding).
    dtype : {np.float64, np.float32}, default=np.float64
        Floating dtype of the outputs.
    random_state : int or None, default=0
        Seed of the patch sampling.
    return_image : bool, default=False
        Also return the grayscale image in [0, 1].

    Returns
    -------
    patches : ndarray of shape (n_patches, patch_height * patch_width)
        Pixel values in [0, 1] (minus the patch mean if ``center``).
    image : ndarray of shape (height, width)
        Only if ``return_image``.

    Examples
    --------
    >>> from sparsopt.datasets import load_image_patches
    >>> load_image_patches(n_patches=100).shape
    (100, 64)
    """
    from sklearn.datasets import load_sample_image
    from sklearn.feature_extraction.image import extract_patches_2d

    if image not in _IMAGES:
        raise ValueError(f"load_image_patches: image must be one of {sorted(_IMAGES)}, "
                         f"got {image!r}.")
    ph, pw = (check_int(p, "patch_size", "load_image_patches", lower=1) for p in patch_size)
    if n_patches is not None:
        n_patches = check_int(n_patches, "n_patches", "load_image_patches", lower=1)
    rgb = load_sample_image(_IMAGES[image]).astype(np.float64) / 255.0
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    patches = extract_patches_2d(gray, (ph, pw), max_patches=n_patches,
                                 random_state=random_state)
    patches = patches.reshape(patches.shape[0], -1)
    if center:
        patches = patches - patches.mean(axis=1, keepdims=True)
    if return_image:
        return patches.astype(dtype), gray.astype(dtype)
    return patches.astype(dtype)
