"""A one-chapter book project for the CLI's and the sweep's tests: the demo chapter runs
in seconds, can be told to fail or to refuse its parameters, and records one claim."""

import textwrap

import pytest

DEMO = '''\
# %% [markdown]
# # A demo chapter

# %% tags=["parameters"]
epochs = 2
lr = 0.1
name = "demo"
classes = [1, 2]
fail = False
marker = ""  # a file the kernel creates, then it waits until the file `release` exists
release = ""

# %%
from mu_core.chapter import Chapter
chapter = Chapter("00_demo", globals())

# %%
import pathlib, time
if marker:
    pathlib.Path(marker).touch()
while release and not pathlib.Path(release).exists():
    time.sleep(0.05)
from mu_core import loops
for _ in loops.track(range(3), "demo loop"):
    pass

# %%
if fail:
    raise ValueError("the demo was asked to fail")
if epochs > 100:
    from mu_core.errors import ConfigError
    raise ConfigError(f"epochs must be at most 100, got {epochs}.")

# %%
from mu_core.claims import Claim, verdict
chapter.add_claims([Claim("small_step", "the step is small", "-", f"lr {lr}", verdict(lr < 0.3))])
chapter.save_results({"epochs_times_lr": epochs * lr},
                     headline=lambda results: {"epochs_times_lr": results["epochs_times_lr"]})
'''


@pytest.fixture
def project(tmp_path):
    (tmp_path / "mu_core" / "presets" / "smoke").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_toc.yml").write_text(textwrap.dedent("""\
        format: jb-book
        root: intro
        parts:
          - caption: Demo
            chapters:
              - file: notebooks/00_demo
        """))
    (tmp_path / "notebooks" / "00_demo.py").write_text(DEMO)
    (tmp_path / "mu_core" / "presets" / "smoke" / "00_demo.yaml").write_text("epochs: 3\n")
    return tmp_path
