"""Atomic outputs, stage manifests and resumable chunks: every stage's way of never losing work.

- `atomic_path(path)` yields a temporary sibling and renames it over `path` only on success.
- A `StageManifest` beside an output records the stage's parameters and its inputs' hashes; a
  re-run with the same ones is a no-op, one with different ones refuses to overwrite.
- `ChunkStore` keeps finished chunks of a long stage so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in `path`'s directory that replaces `path` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_json(path: Path, payload: Any) -> None:
    """Write `payload` as indented JSON, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    """Write one JSON object per line, atomically."""
    with atomic_path(path) as temporary:
        with temporary.open("w") as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a malformed line raises `ValueError` naming the file and line."""
    records = []
    with Path(path).open() as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
            records.append(record)
    return records


def stats_path(output: Path) -> Path:
    """Where a stage writes the stats of `output`: `<stem>.stats.json` beside it."""
    return Path(output).with_name(Path(output).stem + ".stats.json")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (a directory: of its files' names and bytes, in sorted order)."""
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        with file.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_fingerprint(model: str) -> str:
    """Cheap identity of a model: its files' names, sizes and modification times (a hub id: itself).

    Hashing the bytes of a multi-gigabyte checkpoint on every stage would cost minutes.
    """
    path = Path(model)
    if not path.is_dir():
        return model
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        status = file.stat()
        digest.update(f"{file.relative_to(path)}:{status.st_size}:{status.st_mtime_ns};".encode())
    return digest.hexdigest()


def request_seed(seed: int, index: int) -> int:
    """A per-request sampling seed: distinct across (seed, index), independent of batching."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "little") & 0x7FFFFFFF


class StageMismatchError(RuntimeError):
    """An output exists but was made with other parameters or inputs."""


@dataclass
class StageManifest:
    """What produced an output: stage name, parameters, input digests, output digest."""

    stage: str
    params: dict[str, Any]
    inputs: dict[str, str]

    @staticmethod
    def path_for(output: Path) -> Path:
        return Path(output).with_name(Path(output).name + ".manifest.json")

    def _identity(self) -> dict[str, Any]:
        return json.loads(json.dumps({"stage": self.stage, "params": self.params, "inputs": self.inputs}, default=str))

    def is_done(self, output: Path) -> bool:
        """True if `output` was made by this very stage invocation and is intact.

        Raises `StageMismatchError` if it was made by a different one, so that a changed
        parameter never silently reuses, or silently overwrites, an earlier result.
        """
        manifest_path = self.path_for(output)
        if not Path(output).exists() or not manifest_path.exists():
            return False
        recorded = json.loads(manifest_path.read_text())
        identity = self._identity()
        if {key: recorded.get(key) for key in identity} != identity:
            changed = sorted(
                key
                for section in ("params", "inputs")
                for key in set(identity[section]) | set(recorded.get(section, {}))
                if identity[section].get(key) != recorded.get(section, {}).get(key)
            ) or ["stage"]
            raise StageMismatchError(
                f"{output} exists but was made with different {', '.join(changed)}; "
                "delete it or choose another output path"
            )
        return recorded.get("output_digest") == file_digest(output)

    def record(self, output: Path, **extra: Any) -> None:
        """Write the manifest of a finished `output`."""
        write_json(self.path_for(output), {**self._identity(), "output_digest": file_digest(output), **extra})


class ChunkStore:
    """Finished chunks of a long stage, one JSONL file each, in `directory`.

    Items 0..total-1 are cut into chunks of `chunk_size`; chunk `index` covers `span(index)`. The
    directory remembers the identity (parameters, inputs, chunking) of the run that wrote it; a run with
    another identity starts afresh instead of mixing in chunks made differently. Chunks may be
    written in any order (by several engine replicas); each is written atomically.
    """

    def __init__(self, directory: Path, identity: dict[str, Any], total: int, chunk_size: int) -> None:
        self.directory = Path(directory)
        self.total, self.chunk_size = total, chunk_size
        identity = json.loads(json.dumps(identity | {"total": total, "chunk_size": chunk_size}, default=str))
        identity_path = self.directory / "identity.json"
        if identity_path.exists() and json.loads(identity_path.read_text()) != identity:
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if not identity_path.exists():
            write_json(identity_path, identity)

    def _path(self, index: int) -> Path:
        return self.directory / f"chunk_{index:05d}.jsonl"

    def __len__(self) -> int:
        return math.ceil(self.total / self.chunk_size)

    def span(self, index: int) -> tuple[int, int]:
        """The items `[start, end)` of chunk `index`."""
        return index * self.chunk_size, min(self.total, (index + 1) * self.chunk_size)

    def missing(self) -> list[int]:
        """Indices of the chunks not written yet, in order."""
        return [index for index in range(len(self)) if not self._path(index).exists()]

    def write(self, index: int, records: list[dict[str, Any]]) -> None:
        """Store chunk `index`'s records (atomically)."""
        write_jsonl(self._path(index), records)

    def records(self) -> list[dict[str, Any]]:
        """Every chunk's records in item order; raises `ValueError` naming the first missing chunk."""
        if missing := self.missing():
            raise ValueError(f"{self._path(missing[0])} is missing: the stage has not finished")
        return [record for index in range(len(self)) for record in read_jsonl(self._path(index))]

    def remove(self) -> None:
        """Delete the chunks once the stage's output is written."""
        shutil.rmtree(self.directory, ignore_errors=True)
