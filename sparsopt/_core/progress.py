"""Progress reporting for long fits: a tqdm bar when tqdm is installed, plain lines otherwise.

One helper for every estimator whose fit can take more than a few seconds (dictionary
learners, CV estimators, KroneckerSBL, the OT estimator, the families to come)::

    with progress(total=n_epochs, desc="MiniBatchDictionaryLearning", verbose=verbose) as bar:
        for epoch in range(n_epochs):
            ...
            bar.update(1, objective=obj)

``verbose`` follows the loop protocol (``None`` reads :func:`sparsopt.get_config`):
0 shows nothing (and costs nothing), >= 1 shows progress. tqdm is an optional dependency
(``pip install tqdm``); without it, one plain line is printed per update, at most one every
``min_interval`` seconds (and always the last one).
"""

from __future__ import annotations

import sys
import time

from .loop import resolve_verbose

__all__ = ["progress", "Progress", "fit_progress"]


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Progress:
    """A progress reporter (use :func:`progress` to build one).

    Attributes
    ----------
    n : int
        Units of work done so far.
    total : int or None
        Units of work expected (None when unknown).
    backend : {"tqdm", "plain", "off"}
        How progress is shown.
    """

    def __init__(self, total=None, desc="", verbose=None, *, use_tqdm=None, file=None,
                 min_interval=0.5):
        self.total = None if total is None else int(total)
        self.desc = desc
        self.n = 0
        self.verbose = resolve_verbose(verbose)
        self.file = sys.stdout if file is None else file
        self.min_interval = float(min_interval)
        self._bar = None
        self._last = -float("inf")
        self._t0 = time.perf_counter()
        self._postfix = {}
        if self.verbose <= 0:
            self.backend = "off"
            return
        tqdm = None
        if use_tqdm is not False:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # optional dependency
                if use_tqdm:
                    raise
        if tqdm is not None:
            self.backend = "tqdm"
            self._bar = tqdm(total=self.total, desc=desc, file=self.file, leave=True)
        else:
            self.backend = "plain"

    def update(self, n=1, **postfix):
        """Record ``n`` more units of work; ``postfix`` values (objective, ...) are shown."""
        self.n += int(n)
        if self.backend == "off":
            return
        if postfix:
            self._postfix = postfix
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix({k: _fmt(v) for k, v in postfix.items()}, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        last = self.total is not None and self.n >= self.total
        if last or now - self._last >= self.min_interval:
            self._last = now
            self._print()

    def _print(self):
        of = f"/{self.total}" if self.total is not None else ""
        extra = "".join(f" {k}={_fmt(v)}" for k, v in self._postfix.items())
        print(f"{self.desc}: {self.n}{of} [{time.perf_counter() - self._t0:.1f}s]{extra}",
              file=self.file, flush=True)

    def close(self):
        """Finish the display (prints the last plain line if it was throttled)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.backend == "plain" and self._last < 0 and self.n:
            self._print()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress(total=None, desc="", verbose=None, **kwargs):
    """A :class:`Progress` reporter: tqdm bar, plain lines, or nothing when ``verbose`` is 0.

    Parameters
    ----------
    total : int or None
        Units of work expected (epochs, CV fits, iterations), None when unknown.
    desc : str
        Label (the estimator's name).
    verbose : int, bool or None
        0 shows nothing; >= 1 shows progress; None reads ``sparsopt.get_config()``.
    use_tqdm : bool or None, default=None
        None uses tqdm when it is installed; False always prints plain lines.
    file : file-like, default=sys.stdout
    min_interval : float, default=0.5
        Minimum seconds between two plain lines.

    Examples
    --------
    >>> import io
    >>> from sparsopt._core.progress import progress
    >>> out = io.StringIO()
    >>> with progress(3, "fit", verbose=1, use_tqdm=False, file=out, min_interval=0) as bar:
    ...     for _ in range(3):
    ...         bar.update(1, objective=0.5)
    >>> out.getvalue().splitlines()[-1].startswith("fit: 3/3")
    True
    """
    return Progress(total, desc, verbose, **kwargs)


class fit_progress:
    """A progress bar fed by a solver's ``callback(state)``: the estimator-side helper.

    ::

        with fit_progress(max_iter, "MyEstimator", self.verbose) as fp:
            res = solver(..., callback=fp.callback, verbose=fp.solver_verbose)
            fp.finish(res.n_iter)

    ``fp.callback`` moves the bar to ``state.iteration`` and shows the objective (None when
    there is nothing to show and no user callback); ``fp.solver_verbose`` is the level to
    pass on: the solver prints its own lines only from ``verbose >= 2`` (level 1 is the
    bar). ``user_callback`` (the estimator's own ``callback`` parameter, if any) is
    chained: its return value stops the solver. ``finish(n_iter)`` moves the bar to the
    last iteration (the check that meets ``tol`` does not call the callback).
    """

    def __init__(self, total, desc, verbose=None, user_callback=None, **kwargs):
        level = resolve_verbose(verbose)
        self.bar = Progress(total, desc, level, **kwargs)
        self.user_callback = user_callback
        self.solver_verbose = int(level >= 2)
        on = self.bar.backend != "off" or user_callback is not None
        self.callback = self._callback if on else None

    def _callback(self, state):
        if self.bar.backend != "off":
            step = max(int(state.iteration) - self.bar.n, 0)
            if state.objective is not None:
                self.bar.update(step, objective=state.objective)
            else:
                self.bar.update(step)
        if self.user_callback is not None:
            return self.user_callback(state)
        return None

    def finish(self, n_iter):
        """Move the bar to ``n_iter`` (the iterations the solver reports)."""
        if int(n_iter) > self.bar.n:
            self.bar.update(int(n_iter) - self.bar.n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
        return False
