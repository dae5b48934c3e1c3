"""Make the site's web fonts: static/fonts/web/*.woff2, the bundled Noto Serif and Noto Sans (the
PDF's fonts) cut down to Latin and Cyrillic and compressed as WOFF2, for `@font-face` in
static/css/site.css. Run again after replacing the bundled fonts:

    .venv/bin/python scripts/subset_fonts.py

Needs fontTools and Brotli (the dev dependencies). The fonts are under the SIL Open Font License
(static/fonts/OFL.txt, copied beside them), which allows subsetting and redistribution.
"""

import shutil
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
OUT = FONTS / "web"
FAMILIES = ["NotoSerif-Regular", "NotoSerif-Bold", "NotoSerif-Italic", "NotoSans-Regular", "NotoSans-Bold"]
UNICODES = [
    *range(0x20, 0x7F),  # Basic Latin
    *range(0xA0, 0x180),  # Latin-1 Supplement and Latin Extended-A
    *range(0x400, 0x460),  # Cyrillic (Ukrainian's і, ї, є, ґ included)
    0x490, 0x491,  # Ґ ґ
    *range(0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    0x2030, 0x2039, 0x203A, 0x20AC, 0x2116, 0x2122, 0x2190, 0x2192, 0x2212, 0x00B7,
]


def make(family: str) -> Path:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "onum", "lnum", "tnum"]
    options.hinting = False  # browsers on current systems hint themselves; saves a third
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    options.desubroutinize = True
    font = TTFont(FONTS / f"{family}.ttf")
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    target = OUT / f"{family}.woff2"
    font.flavor = "woff2"
    font.save(target)
    return target


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for family in FAMILIES:
        target = make(family)
        print(f"{target.relative_to(FONTS.parent.parent)}: {target.stat().st_size // 1024} KB")
    shutil.copyfile(FONTS / "OFL.txt", OUT / "OFL.txt")


if __name__ == "__main__":
    main()
