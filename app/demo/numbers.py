"""Phone numbers for fictitious people: in blocks no operator assigns to a subscriber.

None of the hotline's ten countries reserves numbers for fiction or testing (as the UK's
Ofcom or the North American 555-01xx do), so the demo follows the demo directory's own
convention (``app/organisations/demo_directory.yaml``): a real area code, then the
exchange 000, which is not assigned to subscribers. The directory's duty numbers and
national lines take the low end of each block (0000-0199); people get the upper half,
so no demo caller ever has a responder's or a line's number.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    prefix: str  # +country code, area code, 000
    free_digits: int  # digits after the prefix

    def numbers(self) -> range:
        """The upper half of the block: never a directory number."""
        size = 10 ** self.free_digits
        return range(size // 2, size)


# Area codes from the demo directory's cities; national number lengths as each country
# dials them (Russia and Kazakhstan 10 digits, most others 9, Turkmenistan 8).
BLOCKS: dict[str, tuple[Block, ...]] = {
    "RU": (Block("+7495000", 4), Block("+7812000", 4), Block("+7343000", 4)),
    "KZ": (Block("+7727000", 4), Block("+7717000", 4), Block("+7725000", 4)),
    "UZ": (Block("+99871000", 4), Block("+99866000", 4)),
    "TJ": (Block("+992372000", 3), Block("+992342000", 3)),
    "KG": (Block("+996312000", 3), Block("+996322000", 3)),
    "TM": (Block("+99312000", 3),),
    "AF": (Block("+9320000", 4), Block("+9340000", 4)),
    "AZ": (Block("+99412000", 4), Block("+99422000", 4)),
    "IR": (Block("+9821000", 5), Block("+9851000", 5)),
    "TR": (Block("+90212000", 4), Block("+90216000", 4), Block("+90312000", 4)),
}


class OutOfNumbers(ValueError):
    """More people of one country than its fictitious blocks hold."""


def capacity(country: str) -> int:
    return sum(len(block.numbers()) for block in BLOCKS[country])


def fictitious_number(country: str, index: int) -> str:
    """The ``index``-th (from 0) fictitious number of the country, E.164."""
    for block in BLOCKS[country]:
        numbers = block.numbers()
        if index < len(numbers):
            return f"{block.prefix}{numbers[index]:0{block.free_digits}d}"
        index -= len(numbers)
    raise OutOfNumbers(f"more demo people in {country} than its fictitious numbers "
                       f"({capacity(country)}); ask for fewer --people")
