"""How wide a word prints, so a table column can be made wide enough for it.

Advance widths in thousandths of an em, measured from DejaVu Serif: the serif
LibreOffice falls back to when Times New Roman is not installed, and wider than
it by about a third, so a column that holds a word in DejaVu Serif holds it in
Times New Roman (Word) too. A character not in the table counts as one em.
"""

from __future__ import annotations

import re

from docx.shared import Emu, Pt

_CHARS = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789"
    ".,;:!?()[]«»\"'-–—/№%+*&@#_ "
)
# fmt: off
_REGULAR = (
    596, 602, 563, 524, 616, 592, 592, 920, 545, 667, 667, 625, 635, 778, 667, 602, 667, 640,
    560, 553, 588, 783, 564, 643, 661, 930, 930, 636, 796, 544, 560, 871, 631, 757, 735, 735,
    662, 813, 730, 730, 1124, 623, 872, 872, 774, 834, 1024, 872, 820, 872, 673, 765, 667, 723,
    830, 712, 872, 773, 1141, 1141, 794, 984, 674, 765, 1193, 808, 596, 640, 560, 640, 592, 370,
    640, 644, 320, 310, 606, 320, 948, 644, 602, 640, 640, 478, 513, 402, 644, 565, 856, 564,
    565, 527, 722, 735, 765, 802, 730, 694, 799, 872, 395, 401, 747, 664, 1024, 875, 820, 673,
    820, 753, 685, 667, 843, 722, 1028, 712, 660, 695, 636, 636, 636, 636, 636, 636, 636, 636,
    636, 636, 318, 318, 337, 337, 402, 536, 390, 390, 390, 390, 612, 612, 460, 275, 338, 500,
    1000, 337, 946, 950, 838, 500, 890, 1000, 838, 500, 318,
)
_BOLD = (
    648, 667, 695, 613, 667, 636, 636, 1010, 638, 742, 742, 722, 705, 869, 732, 667, 732, 699,
    609, 620, 640, 902, 596, 739, 732, 1075, 1082, 767, 1002, 679, 609, 1025, 739, 814, 854,
    845, 690, 889, 762, 762, 1312, 721, 945, 945, 910, 884, 1107, 945, 871, 944, 752, 796, 744,
    812, 949, 776, 966, 913, 1268, 1293, 957, 1202, 825, 795, 1287, 882, 648, 699, 609, 699,
    636, 430, 699, 727, 380, 362, 693, 380, 1058, 727, 667, 699, 699, 527, 563, 462, 727, 581,
    861, 596, 581, 568, 776, 845, 796, 867, 762, 710, 854, 945, 468, 473, 869, 703, 1107, 914,
    871, 752, 871, 831, 722, 744, 872, 776, 1123, 776, 714, 730, 696, 696, 696, 696, 696, 696,
    696, 696, 696, 696, 348, 348, 369, 369, 439, 586, 473, 473, 473, 473, 625, 625, 521, 306,
    415, 500, 1000, 365, 1087, 950, 838, 523, 903, 1000, 838, 500, 348,
)
# fmt: on
_WIDTHS = {False: dict(zip(_CHARS, _REGULAR, strict=True)), True: dict(zip(_CHARS, _BOLD, strict=True))}
_UNKNOWN = 1000

# Where a line may break: at spaces (not at a no-break space), and after a hyphen or a dash before a letter
# («ноябрь-декабрь» breaks as «ноябрь-» / «декабрь» in Word and LibreOffice alike;
# «2019-2020» does not break).
_BREAKS = re.compile(r"[^\S\u00a0]+|(?<=[-–—])(?=[^\W\d_])")


def words(text: str) -> list[str]:
    """The pieces of `text` no line break can split."""
    return [word for word in _BREAKS.split(text) if word]


def text_width(text: str, size: Pt, bold: bool = False) -> Emu:
    """The printed width of `text` on one line at font `size`."""
    widths = _WIDTHS[bold]
    thousandths = sum(widths.get(char, _UNKNOWN) for char in text.replace("\u00a0", " "))
    return Emu(round(size * thousandths / 1000))


def longest_word_width(text: str, size: Pt, bold: bool = False) -> Emu:
    """The width of the widest unbreakable piece of `text` (0 for an empty text)."""
    return max((text_width(word, size, bold) for word in words(text)), default=Emu(0))
