"""The VBA source of an .xlsm, read without Excel: enough to check what macros a workbook has.

`xl/vbaProject.bin` is an OLE file whose module streams hold the source compressed as MS-OVBA
2.4.1 describes (a signature byte 0x01, then chunks of up to 4,096 bytes, each a header and
flag bytes choosing literal bytes or copy tokens). Rather than parse the OLE directory, this
scans the file for compressed containers that decompress to `Attribute VB_Name = "..."`: our
template's project (xlwings's quickstart) is small enough that each module is stored in one run
of sectors. A module this misses is simply absent from the result, which the tests notice.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

NAME = re.compile(rb'^Attribute VB_Name = "([^"]+)"')


def _decompress(data: bytes, position: int) -> bytes:
    """The MS-OVBA compressed container starting at `position` (its 0x01 signature byte)."""
    position += 1
    out = bytearray()
    while position + 2 <= len(data):
        header = int.from_bytes(data[position:position + 2], "little")
        if (header >> 12) & 0b111 != 0b011:  # not a chunk header: the container has ended
            break
        end, compressed = min(position + (header & 0xFFF) + 3, len(data)), header >> 15
        position += 2
        chunk_start = len(out)
        if not compressed:
            out += data[position:position + 4096]
            position = end
            continue
        while position < end:
            flags = data[position]
            position += 1
            for bit in range(8):
                if position >= end:
                    break
                if not (flags >> bit) & 1:
                    out.append(data[position])
                    position += 1
                    continue
                token = int.from_bytes(data[position:position + 2], "little")
                position += 2
                bit_count = max((len(out) - chunk_start - 1).bit_length(), 4)
                offset, length = (token >> (16 - bit_count)) + 1, (token & (0xFFFF >> bit_count)) + 3
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def vba_modules(path: Path) -> dict[str, str]:
    """Module name -> VBA source for every module found in the .xlsm at `path`."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read("xl/vbaProject.bin")
    modules: dict[str, str] = {}
    for position in (index for index, byte in enumerate(data) if byte == 1):
        try:
            source = _decompress(data, position)
        except IndexError:  # a 0x01 byte that only looked like a signature
            continue
        match = NAME.match(source)
        if match:
            modules[match.group(1).decode("latin-1")] = source.decode("latin-1")
    return modules


def subs(source: str) -> list[str]:
    """The names of the Sub procedures a module's source defines."""
    return re.findall(r"^(?:Public |Private )?Sub (\w+)\(", source, flags=re.MULTILINE)
