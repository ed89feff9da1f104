"""Engine replicas (issue 16): which devices each engine gets, what a stage's identity leaves out,
and a replica that cannot start. Sharing work, a dead replica and equal results: test_stages.py."""

import re

import pytest

from recipe.rzero.stages.generate import GenerateConfig
from recipe.rzero.vllm_engine import EngineConfig, replica_environment
from tests.helpers import run_command

pytestmark = pytest.mark.usefixtures("embedded_model")


def test_each_gpu_replica_gets_its_own_tensor_parallel_group():
    gpus = [str(gpu) for gpu in range(8)]
    groups = [replica_environment("cuda", replica, 4, gpus, 2)["CUDA_VISIBLE_DEVICES"] for replica in range(4)]
    assert groups == ["0,1", "2,3", "4,5", "6,7"]
    with pytest.raises(ValueError, match="replica 2 needs 2 GPUs; only 0,1,2,3 given"):
        replica_environment("cuda", 2, 3, gpus[:4], 2)
    assert replica_environment("cuda", 0, 1, [], 1) == {}  # nothing known: CUDA chooses


def test_replicas_default_to_every_visible_gpu_group(embedded_model, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5,6,7")
    config = EngineConfig(model=embedded_model, device="cuda", tensor_parallel_size=2)
    assert config.replica_count() == 2 and config.replica_environment(1) == {"CUDA_VISIBLE_DEVICES": "6,7"}
    given = EngineConfig(model=embedded_model, device="cuda", gpu_ids=["0", "1", "2"])
    assert given.replica_count() == 3 and given.replica_environment(2) == {"CUDA_VISIBLE_DEVICES": "2"}
    assert EngineConfig(model=embedded_model, device="cpu").replica_count() == 1
    with pytest.raises(ValueError, match="replicas must be at least 1"):
        EngineConfig(model=embedded_model, device="cpu", replicas=0)


def test_where_the_work_runs_is_not_part_of_a_stages_identity(embedded_model, tmp_path):
    one = GenerateConfig(model=embedded_model, output=tmp_path / "a.jsonl", device="cpu")
    two = GenerateConfig(model=embedded_model, output=tmp_path / "b.jsonl", device="cpu", replicas=2, gpu_ids=["1"])
    assert one.identity_params() == two.identity_params()
    assert not {"output", "replicas", "gpu_ids"} & set(one.identity_params())


@pytest.mark.vllm
def test_a_replica_that_cannot_start_is_a_clear_error(embedded_model, infer_python, tmp_path):
    args = ["--model", embedded_model, "--output", tmp_path / "q.jsonl", "--num-questions", 2, "--replicas", 2]
    result = run_command(infer_python, "generate", *args, "--max-model-len", 10**7, check=False)
    assert result.returncode == 1 and re.search(r"error: replica (0|1) \(cores \1\) could not start its engine", result.stderr)
    assert "max_model_len" in result.stderr and not (tmp_path / "q.jsonl").exists()
