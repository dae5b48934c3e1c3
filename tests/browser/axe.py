"""axe-core for the accessibility tests: the release named below, from npm (`npm pack
axe-core@4.14.1`; MPL-2.0, its LICENSE beside it), vendored in tests/browser/axe-core/ because
axe-playwright-python bundles an older one (4.12). To upgrade: `npm view axe-core version`, then
`npm pack axe-core@<version>`, copy package/axe.min.js and LICENSE here and change AXE_CORE_VERSION;
`test_the_vendored_axe_core_is_the_pinned_release` checks the two agree.

Every accessibility test runs the same rules (`OPTIONS`): WCAG 2.0, 2.1 and 2.2 at levels A and AA
and axe's best practices, with target-size (WCAG 2.2's 24 px touch targets) switched on, which
axe-core leaves off by default."""

from functools import cache
from pathlib import Path

from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe

AXE_CORE_VERSION = "4.14.1"
AXE_FILE = Path(__file__).resolve().parent / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": TAGS},
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}


class VendoredAxe(Axe):
    def run(self, page, context=None, options=None) -> AxeResults:
        """axe.run with `OPTIONS`; the 650 KB script is injected once per loaded document."""
        if page.evaluate("typeof axe === 'undefined' ? null : axe.version") != AXE_CORE_VERSION:
            page.evaluate(self.axe_script)
        return AxeResults(page.evaluate("([context, options]) => axe.run(context || document, options)",
                                        [context, options or OPTIONS]))


@cache
def axe() -> VendoredAxe:
    return VendoredAxe.from_file(AXE_FILE)


def violations(page) -> list[str]:
    """One line per element axe-core finds at fault on the page as it is now: rule, target, why."""
    found = axe().run(page).response["violations"]
    return [f"{rule['id']} ({rule['impact']}) at {' '.join(map(str, node['target']))}: "
            f"{node.get('failureSummary', '').splitlines()[-1].strip() if node.get('failureSummary') else rule['help']}"
            for rule in found for node in rule["nodes"]]


def assert_no_violations(page, where: str = "") -> None:
    found = violations(page)
    assert not found, f"{where or page.url}:\n" + "\n".join(found)
