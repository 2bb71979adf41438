"""Read the type stubs that `#[hpy::module]` embeds in the binary.

The macro writes the module's `.pyi` text (from the same parsed signatures it generates the
module from) into an ELF section named `.hpy_stubs`, so the stubs always match the binary and
building them needs no Python import of the module. Several modules in one binary, or several
codegen units, each contribute a chunk; chunks are NUL-separated `module\\0text\\0`.
"""
import struct

SECTION = b".hpy_stubs"


def _sections(data):
    """(name, bytes) of each section of a little-endian ELF file; [] for anything else."""
    if data[:4] != b"\x7fELF" or data[5] != 1:
        return []
    is64 = data[4] == 2
    if is64:
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    else:
        shoff, = struct.unpack_from("<I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)

    def header(i):
        base = shoff + i * shentsize
        if is64:
            name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, base)
        else:
            name, _type, _flags, _addr, offset, size = struct.unpack_from("<IIIIII", data, base)
        return name, offset, size

    _, str_off, str_size = header(shstrndx)
    names = data[str_off:str_off + str_size]
    out = []
    for i in range(shnum):
        name_off, offset, size = header(i)
        end = names.index(b"\0", name_off)
        out.append((names[name_off:end], data[offset:offset + size]))
    return out


def extract(binary):
    """The stub text embedded in `binary`, or None if there is none."""
    for name, content in _sections(binary):
        if name == SECTION:
            chunks = [c for c in content.split(b"\0") if c]
            # chunks alternate: module name, stub text (the text of one module only)
            texts = [chunks[i + 1].decode("utf-8") for i in range(0, len(chunks) - 1, 2)]
            if texts:
                return "\n".join(texts)
    return None
