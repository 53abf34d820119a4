"""Content-addressed store of model states, keyed by the canonical JSON of their config.

A config holds everything that determines a model (dataset, split, architecture, method,
hyper-parameters, seed), so chapters that ask for the same model share one file; the key
also hashes mu_core's sources, so code that changed never loads an older entry. Writes
are atomic (temporary file, then rename); reads use ``weights_only=True``; a corrupt,
partial or mismatching file, or one whose tensors do not match the checksum stored with
them (a flipped byte), is reported, removed and rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .errors import check_writable_folder

FORMAT = 2  # 2: entries carry a checksum of their tensors


class CacheWarning(UserWarning):
    """A cache entry was unreadable or did not fit and is rebuilt (`mu-book` repeats these
    warnings in the terminal after the chapter's run)."""


# The models this process asked the cache for, in order (`record`, `used`): a chapter's
# provenance tells which came from the cache and how they were made.
_USED: list[dict] = []


def made_by(model: nn.Module) -> dict:
    """How a model is being built here: torch's thread count, the process (a study's
    worker process or the chapter's own), the device and mu_core's version. Entries are
    shared across these on purpose (workers and their parent find each other's models);
    the provenance says where each came from."""
    import multiprocessing

    from . import __version__

    parameter = next(model.parameters(), None)
    return {"threads": torch.get_num_threads(),
            "process": "worker" if multiprocessing.parent_process() is not None else "main",
            "device": parameter.device.type if parameter is not None else "cpu",
            "mu_core": __version__}


def record(config: dict, cached: bool, meta: dict) -> None:
    _USED.append({"key": config_key(config), "cached": cached,
                  "made_by": meta.get("made_by")})


def used(since: int = 0) -> list[dict]:
    """The models asked for since the `since`-th: key, whether it came from the cache and
    how it was made (None for an entry older than this record)."""
    return [dict(entry) for entry in _USED[since:]]


def add_used(entries: list[dict]) -> None:
    """Add the records of models a worker process asked for."""
    _USED.extend(entries)


def cache_dir() -> Path:
    """$MU_CACHE_DIR, else $XDG_CACHE_HOME/mu_core/models, else ~/.cache/mu_core/models."""
    if os.environ.get("MU_CACHE_DIR"):
        return Path(os.environ["MU_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "mu_core" / "models"


OFF = ("0", "false", "no", "off")


def enabled() -> bool:
    """The cache is used unless MU_CACHE is 0, false, no or off (any case)."""
    return os.environ.get("MU_CACHE", "1").strip().lower() not in OFF


def check_writable() -> None:
    """Raise ConfigError, before any training, when the cache is on and its folder cannot
    be written (a model trained then would be lost)."""
    if not enabled():
        return
    folder = check_writable_folder(cache_dir(), "the model cache",
                                   "set MU_CACHE_DIR to a writable folder or MU_CACHE=0")
    remove_stale_temporaries(folder)


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the half-written <key>.<pid>.*.tmp files of killed processes."""
    for tmp in folder.glob("*.tmp"):
        pid = tmp.name.split(".")[1] if tmp.name.count(".") >= 2 else ""
        if pid.isdigit() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def canonical_json(config: dict) -> str:
    """One spelling per config: sorted keys, no spaces, tuples as lists."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False, default=_jsonable)


def _jsonable(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cache configs hold JSON values only, got {type(value).__name__}.")


def config_key(config: dict) -> str:
    """The entry's name: a hash of the config and of the code that builds models
    (`code_fingerprint`), so an entry built by other code is never loaded."""
    keyed = canonical_json(config) + code_fingerprint()
    return hashlib.sha256(keyed.encode()).hexdigest()[:32]


@functools.cache
def code_fingerprint(package: Path = Path(__file__).parent) -> str:
    """SHA-256 of the Python sources under `package` (mu_core): its version does not change
    between commits, so a cache keyed on the version alone served models that older code
    had trained. Any change to the sources starts a fresh set of entries."""
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(f"{source.relative_to(package).as_posix()}\0".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def path_for(config: dict) -> Path:
    return cache_dir() / f"{config_key(config)}.pt"


def checksum(state: dict) -> str:
    """SHA-256 of a state dict's names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save(config: dict, state: dict, meta: dict | None = None) -> Path:
    """Write a state dict (and JSON-able metadata) for `config`, atomically, with the
    checksum of its tensors."""
    path = path_for(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in state.items()}
    payload = {"format": FORMAT, "config": canonical_json(config), "state": state,
               "checksum": checksum(state), "meta": json.dumps(meta or {})}
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.stem}.{os.getpid()}.",
                                   suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(config: dict) -> tuple[dict, dict] | None:
    """(state, meta) stored for `config`, or None when absent or unreadable (then removed)."""
    path = path_for(config)
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_dir() and not path.is_symlink():  # not a file: reported and rebuilt
        warnings.warn(f"cache entry {path} is a folder, not a file; it is removed and "
                      "rebuilt.", CacheWarning, stacklevel=2)
        shutil.rmtree(path, ignore_errors=True)
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != FORMAT or payload.get("config") != canonical_json(config):
            raise ValueError("its config or format does not match")
        if payload.get("checksum") != checksum(payload["state"]):
            raise ValueError("its tensors do not match their checksum")
        return payload["state"], json.loads(payload["meta"])
    except Exception as error:  # truncated zip, unpickling error, wrong content, ...
        reason = (str(error).strip().splitlines() or [""])[0][:120]
        warnings.warn(f"cache file {path} is unreadable ({type(error).__name__}: {reason}); "
                      "it is removed and rebuilt.", CacheWarning, stacklevel=2)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None


def cached_model(config: dict, create: Callable[[], nn.Module],
                 build: Callable[[nn.Module], dict | None]) -> tuple[nn.Module, dict]:
    """The model for `config`: loaded from the cache, or created, built and stored.

    `create()` returns a fresh model of the right architecture; `build(model)` trains or
    unlearns it in place and may return metadata to keep (its run time is added as
    ``seconds``). Returns (model, meta); ``meta["cached"]`` tells whether it was a hit.
    """
    if not enabled():
        model, meta = _built(create(), build)
        record(config, False, meta)
        return model, {**meta, "cached": False}
    check_writable()  # before building: a model trained now must not be lost
    with _exclusive(config):  # a second process asking for it waits, then loads it
        model = create()
        found = load(config)
        if found is not None:
            state, meta = found
            try:
                model.load_state_dict(state)
                record(config, True, meta)
                return model, {**meta, "cached": True}
            except RuntimeError as error:
                warnings.warn(f"cached state for {config_key(config)} does not fit the model "
                              f"({error}); rebuilding.", CacheWarning, stacklevel=2)
                model = create()
        model, meta = _built(model, build)
        save(config, model.state_dict(), meta)
        record(config, False, meta)
        return model, {**meta, "cached": False}


def _built(model: nn.Module, build) -> tuple[nn.Module, dict]:
    start = time.perf_counter()
    meta = dict(build(model) or {})
    meta["seconds"] = time.perf_counter() - start
    meta["made_by"] = made_by(model)
    return model, meta


@contextlib.contextmanager
def _exclusive(config: dict):
    """Hold an exclusive lock on `config`'s entry (POSIX flock on locks/<key>.lock), so
    concurrent runs sharing a cache build each model once."""
    path = cache_dir() / "locks" / f"{config_key(config)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
