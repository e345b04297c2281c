"""GB18030 as the current standard (GB 18030-2022) decodes it: Python's codec still gives PUA code points for 25 characters."""

import codecs
import re

# Python's gb18030 follows GB 18030-2000 here. GB 18030-2005 moved A8BC to U+1E3F; GB 18030-2022
# (mandatory since 2023, the default of current JDKs and ICU) moved the ten vertical forms
# (A6D9…A6F3) and eight ideographs (FE59…FEA0) to their Unicode code points. The six FE codes
# whose characters Unicode encodes in Extension B are still PUA in the standard, but a PUA code
# point is never meaningful text in these sources, and the same name must read the same in a
# UTF-8 source. Keyed by the code point Python decodes each of these byte pairs to.
STANDARD = {
    0xE78D: 0xFE10, 0xE78E: 0xFE12, 0xE78F: 0xFE11, 0xE790: 0xFE13, 0xE791: 0xFE14,  # A6D9…A6DD
    0xE792: 0xFE15, 0xE793: 0xFE16, 0xE794: 0xFE17, 0xE795: 0xFE18, 0xE796: 0xFE19,  # A6DE…A6F3
    0xE7C7: 0x1E3F,  # A8BC ḿ
    0xE81E: 0x9FB4, 0xE826: 0x9FB5, 0xE82B: 0x9FB6, 0xE82C: 0x9FB7,  # FE59 FE61 FE66 FE67
    0xE832: 0x9FB8, 0xE843: 0x9FB9, 0xE854: 0x9FBA, 0xE864: 0x9FBB,  # FE6D FE7E FE90 FEA0
    0xE816: 0x20087, 0xE817: 0x20089, 0xE818: 0x200CC,  # FE51 FE52 FE53
    0xE831: 0x215D7, 0xE83B: 0x2298F, 0xE855: 0x241FE,  # FE6C FE76 FE91
}
_PUA = re.compile("[" + "".join(map(chr, STANDARD)) + "]")
NAME = "gb18030_2022"


def _standard(text: str) -> str:
    return text.translate(STANDARD) if _PUA.search(text) else text


class _Decoder(codecs.IncrementalDecoder):
    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._inner = codecs.getincrementaldecoder("gb18030")(errors)

    def decode(self, data: bytes, final: bool = False) -> str:
        return _standard(self._inner.decode(data, final))

    def reset(self) -> None:
        self._inner.reset()

    def getstate(self):
        return self._inner.getstate()

    def setstate(self, state) -> None:
        self._inner.setstate(state)


def _decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    text, n = codecs.lookup("gb18030").decode(data, errors)
    return _standard(text), n


def _search(name: str) -> codecs.CodecInfo | None:
    if name != NAME:
        return None
    base = codecs.lookup("gb18030")
    return codecs.CodecInfo(base.encode, _decode, incrementalencoder=base.incrementalencoder,
                            incrementaldecoder=_Decoder, streamwriter=base.streamwriter, name=NAME)


codecs.register(_search)


def reading_codec(encoding: str) -> str:
    """The codec a delivery declared in `encoding` is read with. UTF-8 is read as utf-8-sig: a BOM
    the contract says is absent (Excel's "CSV UTF-8" writes one) is no text, and left in place
    it turns a quoted first header cell into `"机构名称"` with its quotes."""
    name = codecs.lookup(encoding).name
    if name == "gb18030":
        return NAME
    return "utf-8-sig" if name == "utf-8" else encoding
