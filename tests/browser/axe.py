"""axe-core for the accessibility tests: the release named below, from npm (`npm pack
axe-core@4.14.1`; MPL-2.0, its LICENSE beside it), vendored in tests/browser/axe-core/ because
axe-playwright-python bundles an older one (4.12). To upgrade: `npm view axe-core version`, then
`npm pack axe-core@<version>`, copy package/axe.min.js and LICENSE here and change AXE_CORE_VERSION;
`test_the_vendored_axe_core_is_the_pinned_release` checks the two agree."""

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

AXE_CORE_VERSION = "4.14.1"
AXE_FILE = Path(__file__).resolve().parent / "axe-core" / "axe.min.js"


def axe() -> Axe:
    return Axe.from_file(AXE_FILE)
