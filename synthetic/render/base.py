"""Shared pieces of the renderers: CSV and XLSX writers, `.ok` markers, ground-truth sink."""

import abc
import csv
import random
import re
import shutil
import zipfile
from pathlib import Path

from synthetic import noise as nz
from synthetic.declarations import Declaration
from synthetic.model import Chunk
from synthetic.scenarios import DEFAULT_AS_OF, Scenario

FIXED_ZIP_TIME = (2026, 11, 30, 0, 0, 0)
_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def write_marker(path: Path) -> None:
    """The `.ok` marker beside a completed delivery file."""
    Path(str(path) + ".ok").write_bytes(b"")


class CsvOut:
    """A CSV delivery written in the source's encoding; marker written on close."""

    def __init__(self, path: Path, header: list[str], encoding: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.header = header
        # newline='' so the csv module controls line ends (\r\n, as the systems export).
        self.fh = path.open("w", encoding=encoding, newline="", errors="strict")
        self.writer = csv.writer(self.fh)
        self.writer.writerow(header)
        self.rows = 0

    def write(self, row: dict[str, object]) -> None:
        """Write one row given as column → value (None = empty field)."""
        self.writer.writerow(["" if row.get(c) is None else row[c] for c in self.header])
        self.rows += 1

    def close(self) -> None:
        """Close the file and write its marker."""
        self.fh.close()
        write_marker(self.path)


def normalise_zip(path: Path) -> None:
    """Rewrite an XLSX with fixed timestamps so the same seed gives identical bytes.

    Entries are copied in blocks, so a province-scale workbook never sits in memory.
    """
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for src in zin.infolist():
            info = zipfile.ZipInfo(src.filename, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            if src.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>2026-11-30T00:00:00Z\g<3>", zin.read(src))
                zout.writestr(info, data)
                continue
            big = src.file_size >= 2**31
            with zin.open(src) as fin, zout.open(info, "w", force_zip64=big) as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
    tmp.replace(path)


class TruthSink:
    """Streams the ground-truth files; mention keys are written once each."""

    def __init__(self, truth_dir: Path) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.persons = CsvOut(truth_dir / "person_mentions.csv", ["source", "key", "person"],
                              "utf-8")
        self.employers = CsvOut(truth_dir / "employer_mentions.csv",
                                ["source", "key", "employer"], "utf-8")
        self.fraud = CsvOut(truth_dir / "fraud_cases.csv", ["rule", "person", "employer", "year"],
                            "utf-8")
        self.decoys = CsvOut(truth_dir / "decoys.csv",
                             ["kind", "person", "employer", "year", "note"], "utf-8")
        self.hard_cases = CsvOut(truth_dir / "hard_cases.csv", ["kind", "a", "b", "note"],
                                 "utf-8")
        self.truth_dir = truth_dir
        self.tags: CsvOut | None = None  # written only by scenarios that label mentions
        self._seen: set[tuple[str, str, str]] = set()

    def tag(self, entity: str, source: str, key: str, tag: str) -> None:
        """A hard-case label on one mention (the evaluation breaks errors down by it)."""
        token = ("t" + entity + tag, source, key)
        if token not in self._seen:
            self._seen.add(token)
            if self.tags is None:
                self.tags = CsvOut(self.truth_dir / "mention_tags.csv",
                                   ["entity", "source", "key", "tag"], "utf-8")
            self.tags.write({"entity": entity, "source": source, "key": key, "tag": tag})

    def person(self, source: str, key: str, pid: str) -> None:
        """A person mention (deduplicated within the chunk)."""
        token = ("p", source, key)
        if token not in self._seen:
            self._seen.add(token)
            self.persons.write({"source": source, "key": key, "person": pid})

    def employer(self, source: str, key: str, eid: str) -> None:
        """An employer mention (deduplicated within the chunk)."""
        token = ("e", source, key)
        if token not in self._seen:
            self._seen.add(token)
            self.employers.write({"source": source, "key": key, "employer": eid})

    def end_chunk(self) -> None:
        """Keys never repeat across chunks: forget the chunk's keys."""
        self._seen.clear()

    def close(self) -> None:
        """Close every truth file (their markers are harmless and keep one writer)."""
        for out in (self.persons, self.employers, self.fraud, self.decoys, self.hard_cases,
                    self.tags):
            if out is not None:
                out.fh.close()


class Renderer(abc.ABC):
    """One source's delivery: opened once, fed chunk by chunk, closed with markers."""

    source = ""

    def __init__(self, out_dir: Path, seed: int, scenario: Scenario,
                 as_of: str = DEFAULT_AS_OF) -> None:
        self.as_of = as_of
        self.dir = out_dir / self.source
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.scn = scenario
        self.noise = scenario.noise
        self.rows = 0

    def rng(self, chunk: Chunk, part: str = "") -> random.Random:
        """A random stream private to this source, chunk and part."""
        return random.Random(f"{self.seed}/{chunk.index}/{self.source}/{part}")

    def harsh(self, chunk: Chunk) -> nz.Harsh | None:
        """The scenario's extra noise for this chunk (own stream), None when it has none."""
        return nz.harsh(self.scn.noise_intensity, self.rng(chunk, "harsh"))

    @abc.abstractmethod
    def write(self, chunk: Chunk, decls: list[Declaration], truth: TruthSink) -> None:
        """Render one chunk."""

    @abc.abstractmethod
    def close(self) -> dict[str, int]:
        """Finish files and markers; return row counts."""
