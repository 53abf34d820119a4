"""mu_core: the library behind the machine-unlearning privacy book.

Modules, one idea each: `data` (datasets, batching), `splits` (forget specs to index
sets), `models` (registry), `train` (the training loop), `cache` (stored models), `zoo`
(the shared trained models), `metrics`, `plots`, `chapter` (provenance and results of a
chapter run), `book` and `cli` (the pipeline), `bench` (benchmarks).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mu-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
