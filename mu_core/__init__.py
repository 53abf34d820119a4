"""mu_core: the library behind the machine-unlearning privacy book.

One idea per module:

* `errors` (errors and argument checks), `data` (the dataset registry, batching,
  augmentation), `splits` (forget specs to index sets), `models` (the model registry),
  `features` (penultimate features, t-SNE), `train` (the one training loop),
  `persample` (per-sample gradients and Fisher), `maxmargin` (homogeneous networks trained
  to a large margin);
* `cache` (the content-addressed model store), `zoo` (the trained, unlearned and shadow
  models all studies share, and the plan of unlearning runs), `ensemble` (many models of
  one architecture trained together: LiRA's shadow models);
* `unlearn/` (the unlearning registry, a file per family), `attacks/` (`mia/` with its
  `metric`, `lira` and `learned` attacks, `mra`, `cmira`, `reconstruct`, `inversion`,
  `backdoor`), `verify` (UnlearnGuard's protocol),
  `metrics`, `plots`;
* `papers/` (the numbers each paper reports, one module per paper slug), `studies/` (one
  study per chapter slug: `baselines`, `mra`, `cmira`, `unlearnguard`, `rsu`,
  `adversarial`), `claims` (checked
  claims as data), `chapter` (a chapter run's parameters, provenance, figures, claims and
  results);
* `book` and `cli` (the `mu-book` pipeline), `bench` (benchmarks).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mu-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
