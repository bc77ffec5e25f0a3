"""Thread counts that do not oversubscribe a shared machine."""
import pytest
import torch

from torch_atomsets.errors import ConfigError
from torch_atomsets.utils import threads


@pytest.fixture(autouse=True)
def _restore():
    before = torch.get_num_threads()
    threads.LAST_CHOICE.clear()
    yield
    threads.LAST_CHOICE.clear()
    torch.set_num_threads(before)


def machine(monkeypatch, cores, load, default=4):
    torch.set_num_threads(default)
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))


def test_requested_wins_and_must_be_positive(monkeypatch):
    machine(monkeypatch, cores=2, load=5.0)
    assert threads.choose_threads(3) == 3 and threads.LAST_CHOICE["reason"] == "requested"
    with pytest.raises(ConfigError, match="--threads must be at least 1, got 0"):
        threads.choose_threads(0)


def test_the_free_cores_shared_among_the_processes(monkeypatch):
    machine(monkeypatch, cores=8, load=0.0, default=4)
    assert threads.choose_threads() == 4  # alone on an idle machine: torch's default
    assert threads.choose_threads(processes=4) == 2
    machine(monkeypatch, cores=8, load=5.5, default=4)
    assert threads.choose_threads() == 2  # 2.5 cores left by other work
    machine(monkeypatch, cores=2, load=3.0, default=2)
    assert threads.choose_threads() == 1  # a busy machine: never below one
    assert "2 cores, load 3.0, 1 process(es)" == threads.LAST_CHOICE["reason"]


def test_set_threads_applies_the_choice(monkeypatch):
    machine(monkeypatch, cores=2, load=1.5, default=2)
    assert threads.set_threads() == 1 and torch.get_num_threads() == 1
