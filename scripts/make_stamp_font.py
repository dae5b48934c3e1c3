"""Make static/fonts/NotoSans-Stamp.ttf, the font of the visible signature stamp on published PDFs.

It is Noto Sans Regular cut down to the Latin and Cyrillic alphabets, digits and punctuation,
without hinting or OpenType layout tables (no kerning: a stamp of three short lines does not need
it): pyHanko subsets the stamp's font on every signature, and with the full font that takes half
a second. Noto Sans has 1000 units per em, which pyHanko's glyph widths assume. Run again after
replacing the bundled Noto Sans:

    .venv/bin/python scripts/make_stamp_font.py
"""

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
UNICODES = [
    *range(0x20, 0x7F),  # Basic Latin
    *range(0xA0, 0x250),  # Latin-1 Supplement, Latin Extended-A and -B
    *range(0x400, 0x530),  # Cyrillic and Cyrillic Supplement
    *range(0x2000, 0x2070),  # General Punctuation (dashes, quotes, ellipsis)
    0x2116,  # numero sign
    0x20AC,  # euro sign
]


def main() -> None:
    font = TTFont(FONTS / "NotoSans-Regular.ttf")
    assert font["head"].unitsPerEm == 1000, "pyHanko's stamp text needs a font with 1000 units per em"
    options = subset.Options(hinting=False, layout_features=[])
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    font.save(FONTS / "NotoSans-Stamp.ttf")


if __name__ == "__main__":
    main()
