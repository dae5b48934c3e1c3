"""bandit, the security linter, finds nothing of high severity in the project's code.

Configured in pyproject.toml ([tool.bandit]). A finding that is a false positive is marked in the
code with `# nosec BXXX` and the reason on the same line."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANDIT = Path(sys.executable).with_name("bandit")


def bandit(*targets: str, cwd: Path = ROOT) -> dict:
    result = subprocess.run(
        [str(BANDIT), "-c", str(ROOT / "pyproject.toml"), "-r", *targets, "-lll", "-f", "json", "-q"],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: findings; anything else: bandit failed
    return json.loads(result.stdout)


def describe(finding: dict) -> str:
    return (f"{finding['filename']}:{finding['line_number']} {finding['test_id']} "
            f"({finding['issue_severity']}/{finding['issue_confidence']}): {finding['issue_text']}")


def test_bandit_finds_no_high_severity_issue_in_the_project():
    report = bandit("coalition", "statements")
    assert report["errors"] == []
    assert report["results"] == [], "\n".join(map(describe, report["results"]))
    scanned = set(report["metrics"]) - {"_totals"}
    assert "coalition/settings.py" in scanned and "statements/services/workflow.py" in scanned


def test_bandit_reports_a_high_severity_issue(tmp_path):
    """The run above would see one: the configuration excludes no project code by mistake."""
    package = tmp_path / "statements"
    package.mkdir()
    (package / "shell.py").write_text("import subprocess\n\n\ndef run(command):\n"
                                      "    return subprocess.call(command, shell=True)\n")
    report = bandit("statements", cwd=tmp_path)
    assert [finding["test_id"] for finding in report["results"]] == ["B602"]
