"""Atomic outputs, stage manifests and resumable chunks."""

import json

import pytest

from recipe.rzero.artifacts import (
    ChunkStore,
    StageManifest,
    StageMismatchError,
    atomic_path,
    read_jsonl,
    request_seed,
    write_jsonl,
)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("finished earlier")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "finished earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_manifest_no_op_mismatch_and_corruption(tmp_path):
    output = tmp_path / "data.jsonl"
    manifest = StageManifest("stage", {"n": 3}, {"model": "abc"})
    assert not manifest.is_done(output)
    write_jsonl(output, [{"a": 1}])
    manifest.record(output)
    assert manifest.is_done(output)
    with pytest.raises(StageMismatchError, match="different n"):
        StageManifest("stage", {"n": 4}, {"model": "abc"}).is_done(output)
    with pytest.raises(StageMismatchError, match="different model"):
        StageManifest("stage", {"n": 3}, {"model": "xyz"}).is_done(output)
    output.write_text("edited by hand\n")
    assert not manifest.is_done(output)  # the digest no longer matches: redo


def test_chunk_store_resumes_and_restarts_on_new_identity(tmp_path):
    store = ChunkStore(tmp_path / "chunks", {"seed": 1}, total=7, chunk_size=3)
    write_jsonl(tmp_path / "chunks" / "chunk_00001.jsonl", [{"i": 3}, {"i": 4}, {"i": 5}])  # done earlier
    assert store.missing() == [0, 2] and [store.span(index) for index in store.missing()] == [(0, 3), (6, 7)]
    with pytest.raises(ValueError, match="chunk_00000.jsonl is missing"):
        store.records()
    for index in reversed(store.missing()):  # replicas finish chunks in any order
        store.write(index, [{"i": i} for i in range(*store.span(index))])
    assert [r["i"] for r in store.records()] == list(range(7))
    assert ChunkStore(tmp_path / "chunks", {"seed": 1}, total=7, chunk_size=3).missing() == []
    assert ChunkStore(tmp_path / "chunks", {"seed": 2}, total=7, chunk_size=3).missing() == [0, 1, 2]  # nothing reused
    assert ChunkStore(tmp_path / "chunks", {"seed": 2}, total=7, chunk_size=2).missing() == [0, 1, 2, 3]


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "ok"}\n{not json}\n')
    with pytest.raises(ValueError, match=r"q.jsonl:2: not valid JSON"):
        read_jsonl(path)
    path.write_text('["a list"]\n')
    with pytest.raises(ValueError, match="expected a JSON object"):
        read_jsonl(path)


def test_request_seeds_are_distinct_across_seeds_and_indices():
    seeds = {request_seed(seed, index) for seed in range(3) for index in range(1000)}
    assert len(seeds) == 3000
    assert json.dumps(request_seed(0, 0))  # a plain int
