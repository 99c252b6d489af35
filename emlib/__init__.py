"""emlib: the Expectation-Maximisation algorithm, readable and tested.

The engine of the course "Expectation-Maximisation Explained". One generic EM loop
(:func:`em`) serves every model; a model is its E-step and its M-step.

>>> import emlib
>>> x = emlib.datasets.load_old_faithful()["waiting"]
>>> result = emlib.fit_gmm(x, 2, rng=0)
>>> result.params.sorted_by_mean().means.round(1)
array([54.6, 80.1])

Modules: :mod:`emlib.gmm` (Gaussian mixtures), :mod:`emlib.kmeans` (k-means as hard EM),
:mod:`emlib.coins` and :mod:`emlib.linkage` (the classic examples), :mod:`emlib.datasets`
(the real data), and :mod:`emlib.plotting` (figures and animations; imports matplotlib).
"""
from . import checks, coins, datasets, gmm, information, kmeans, linkage
from .engine import BoundaryEstimateWarning, EMResult, LikelihoodDecreaseWarning, Parametrisation, aitken_limit, em
from .gmm import GaussianMixtureParams, fit_gmm

__all__ = ["em", "EMResult", "Parametrisation", "aitken_limit", "LikelihoodDecreaseWarning", "BoundaryEstimateWarning", "GaussianMixtureParams", "fit_gmm",
           "gmm", "information", "kmeans", "coins", "linkage", "datasets", "checks"]
__version__ = "0.1.0"
