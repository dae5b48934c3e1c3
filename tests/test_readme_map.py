"""The README's "Where things live" table names every folder and module the repository tracks,
and nothing that is not there (its "may import" column is checked by `make lint`)."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return listed.splitlines()


def mapped() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Where things live\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [path for row in rows for path in re.findall(r"`([^`]+)`", row.split(" | ")[0])]


def covered(path: str, names: list[str]) -> bool:
    """Named itself, or inside a named folder; a module directly in an app must be named itself."""
    if path in names:
        return True
    folders = [name for name in names if name.endswith("/")]
    if path.count("/") == 1 and path.split("/")[0] in ("coalition", "statements"):
        return False
    return any(path.startswith(folder) for folder in folders)


def test_every_tracked_folder_and_module_is_on_the_map():
    names = mapped()
    missing = sorted({path for path in tracked() if not covered(path, names)})
    assert not missing, f"add these to the README's map: {missing}"


def test_everything_on_the_map_exists():
    files = tracked()
    gone = [name for name in mapped()
            if not (name in files or (name.endswith("/") and any(f.startswith(name) for f in files)))]
    assert not gone, f"the README's map names what is not there: {gone}"


def test_the_map_check_notices_a_new_module():
    assert not covered("statements/newthing.py", mapped())
    assert covered("statements/views/newpage.py", mapped())
