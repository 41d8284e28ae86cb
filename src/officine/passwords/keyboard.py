"""The French AZERTY keyboard as an adjacency graph in zxcvbn's format, so that walks such as
"azertyuiop", "aqwzsx" or "&é\"'(-è_çà" are recognised like "qwertyuiop" is on a US keyboard.

Built the way zxcvbn builds its QWERTY graph (its `build_keyboard_adjacency_graphs.py`): each key
is "unshifted shifted"; rows are slanted, so the neighbours of (x, y) are left, upper-left,
upper-right, right, lower-right and lower-left in that order. On AZERTY the digits are the
shifted characters of the top row."""

from __future__ import annotations

from functools import lru_cache

AZERTY = """
   &1 é2 "3 '4 (5 -6 è7 _8 ç9 à0 )° =+
    aA zZ eE rR tT yY uU iI oO pP ^¨ $£
     qQ sS dD fF gG hH jJ kK lL mM ù% *µ
   <> wW xX cC vV bB nN ,? ;. :/ !§
"""


def _slanted_neighbours(x: int, y: int) -> list[tuple[int, int]]:
    return [(x - 1, y), (x, y - 1), (x + 1, y - 1), (x + 1, y), (x, y + 1), (x - 1, y + 1)]


@lru_cache(maxsize=1)
def azerty_graph() -> dict[str, list[str | None]]:
    positions: dict[tuple[int, int], str] = {}
    unit = 3  # two characters and a space
    for y, line in enumerate(AZERTY.split("\n")):
        slant = y - 1
        start = 0
        for key in line.split():
            index = line.index(key, start)
            start = index + len(key)
            x, remainder = divmod(index - slant, unit)
            if remainder:
                raise ValueError(f"AZERTY layout misaligned at {key!r}")
            positions[(x, y)] = key
    graph: dict[str, list[str | None]] = {}
    for (x, y), key in positions.items():
        for char in key:
            graph[char] = [positions.get(c) for c in _slanted_neighbours(x, y)]
    return graph
