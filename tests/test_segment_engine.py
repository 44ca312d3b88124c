"""visual.segment.engine: training lowers the loss, 2 processes = 1 process, resume = straight, torchrun."""

import json
import os

import pytest
import torch

from segment_support import run_cli, tiny_config, weights
from visual.segment.engine import area_metrics, label_areas, split_batch, train
from visual.segment.tiny import make_tiny_dataset

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own

# augmentation off, BatchNorm frozen, dropout 0, no ignored pixels: 1 x 4 and 2 x 2 see the same maths
DETERMINISTIC = ("TRAIN.augment=False", "TRAIN.freeze_bn=True", "TRAIN.dropout=0.0", "TRAIN.epochs=1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    make_tiny_dataset(str(root), count=8, size=33)
    return str(root)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _lines(save_path, kind):
    with open(os.path.join(save_path, "metrics.jsonl"), encoding="utf-8") as handle:
        return [r for r in map(json.loads, handle) if r["kind"] == kind]


@pytest.mark.timeout(240)
def test_training_lowers_the_loss(tiny, tmp_path):
    make_tiny_dataset(str(tmp_path / "four"), count=4, size=33)  # one batch of 4: the same images each step
    data = str(tmp_path / "four")
    config = tiny_config(data, str(tmp_path / "run"), "TRAIN.augment=False", "TRAIN.epochs=6")
    result = train(config)
    losses = [r["loss"] for r in _lines(str(tmp_path / "run"), "train")]
    assert len(losses) == 6 and result["iteration"] == 6
    assert losses[-1] < 0.8 * losses[0], losses
    assert sorted(os.listdir(tmp_path / "run")) == ["metrics.jsonl"] + [f"train_epoch_{n}.pth" for n in range(1, 7)]
    lrs = [r["lr"] for r in _lines(str(tmp_path / "run"), "train")]
    torch.testing.assert_close(lrs, [0.01 * (1 - i / 6) ** 0.9 for i in range(6)])  # poly, per iteration


def test_max_iter_stops_mid_epoch_without_a_checkpoint(tiny, tmp_path):
    result = train(tiny_config(tiny, str(tmp_path / "run"), *DETERMINISTIC, "TRAIN.max_iter=1"))
    assert result["iteration"] == 1 and result["checkpoint"] is None  # a partial epoch is not saved
    assert not any(name.endswith(".pth") for name in os.listdir(tmp_path / "run"))


@pytest.mark.timeout(300)
def test_resume_after_two_of_four_iterations_equals_four_straight(tiny, tmp_path):
    straight = tiny_config(tiny, str(tmp_path / "straight"), "TRAIN.epochs=2", "TRAIN.manual_seed=3")
    train(straight)  # augmentation and dropout on: the RNG states must be restored too
    first = str(tmp_path / "straight" / "train_epoch_1.pth")
    resumed = tiny_config(tiny, str(tmp_path / "resumed"), "TRAIN.epochs=2", "TRAIN.manual_seed=3",
                          f"TRAIN.resume={first}")
    result = train(resumed)
    assert result["iteration"] == 4
    a, b = weights(str(tmp_path / "straight" / "train_epoch_2.pth")), weights(str(tmp_path / "resumed" / "train_epoch_2.pth"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)
    checkpoint = torch.load(first, weights_only=True)
    assert {"epoch", "state_dict", "optimizer", "scheduler", "scaler", "rng", "config"} <= set(checkpoint)
    assert checkpoint["epoch"] == 1 and checkpoint["config"]["TRAIN"]["epochs"] == 2


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_two_processes_of_batch_two_equal_one_process_of_batch_four(tiny, tmp_path):
    single = tiny_config(tiny, str(tmp_path / "one"), *DETERMINISTIC)
    train(single)
    args = ["train", "--config", os.path.join(os.path.dirname(__file__), "..", "configs", "tiny_cpu.yaml"),
            "--set", f"DATA.data_root={tiny}", f"DATA.train_list={tiny}/list/train.txt",
            f"TRAIN.save_path={tmp_path / 'two'}", "TRAIN.sync_bn=True", *DETERMINISTIC]
    done = run_cli(args, torchrun=2, timeout=380)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("TRAIN.sync_bn: nn.SyncBatchNorm needs CUDA tensors") == 1  # once, rank 0
    one, two = weights(str(tmp_path / "one" / "train_epoch_1.pth")), weights(str(tmp_path / "two" / "train_epoch_1.pth"))
    initial = train(tiny_config(tiny, str(tmp_path / "zero"), *DETERMINISTIC, "TRAIN.max_iter=1"))["model"]
    assert not torch.allclose(one["head.4.weight"], initial.state_dict()["head.4.weight"])  # it did train
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-5, msg=key)


def test_split_batch_is_the_global_batch():
    assert split_batch(16, 8, 1) == 2 and split_batch(16, 2, 4) == 2
    with pytest.raises(ValueError, match="TRAIN.batch_size"):
        split_batch(6, 4, 1)


def test_label_areas_by_hand():
    pred = torch.tensor([[[0, 1], [1, 2]]])
    target = torch.tensor([[[0, 1], [2, 255]]])
    areas = label_areas(pred, target, 3, 255)
    # class 0: 1 hit; class 1: 1 hit; class 2: predicted 0 times on valid pixels, labelled once
    assert areas.tolist() == [[1, 1, 0], [1, 2, 1], [1, 1, 1]]
    metrics = area_metrics(areas)
    assert metrics["mIoU"] == pytest.approx((1 + 0.5 + 0) / 3) and metrics["allAcc"] == pytest.approx(2 / 3)


def test_logger_writes_json_lines_and_tensorboard_when_installed(tmp_path, monkeypatch, capsys):
    import sys
    import types

    scalars = []

    class SummaryWriter:
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, tag, value, step):
            scalars.append((tag, value, step))

        def close(self):
            scalars.append("closed")

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=SummaryWriter))
    from visual.segment.engine import Logger

    logger = Logger(str(tmp_path), enabled=True)
    logger.log("train", 3, {"epoch": 1, "loss": 0.5, "lr": 0.01}, "a line")
    logger.close()
    assert scalars == [("train/loss", 0.5, 3), ("train/lr", 0.01, 3), "closed"]
    assert _lines(str(tmp_path), "train") == [{"kind": "train", "iteration": 3, "epoch": 1, "loss": 0.5, "lr": 0.01}]
    assert "a line" in capsys.readouterr().out
    quiet = Logger(str(tmp_path / "rank1"), enabled=False)  # other ranks write nothing
    quiet.log("train", 1, {"loss": 1.0}, "not shown")
    assert not (tmp_path / "rank1").exists()
