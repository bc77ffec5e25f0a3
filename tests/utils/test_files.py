"""Files: checksums, atomic writes, downloads that never replace a good file, and output
paths checked before any work."""
import hashlib
import json
import os

import pytest

from torch_atomsets.errors import AtomSetsInputError, ChecksumError
from torch_atomsets.utils.files import check_writable, download, sha256sum, verify, write_atomic, write_json


def test_sha256_and_verify_name_the_file(tmp_path):
    path = tmp_path / "weights.hdf5"
    path.write_bytes(b"abc" * 1000)
    expected = hashlib.sha256(b"abc" * 1000).hexdigest()
    assert sha256sum(str(path)) == expected
    verify(str(path), expected)
    with pytest.raises(ChecksumError, match="weights.hdf5: sha256 .* does not match the published 00"):
        verify(str(path), "00" * 32)


def test_atomic_writes_leave_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    write_json(str(path), {"test": 1.5, "path": tmp_path})
    assert json.loads(path.read_text())["test"] == 1.5
    write_atomic(str(path), "replaced\n")
    assert path.read_text() == "replaced\n"
    assert os.listdir(path.parent) == ["metrics.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text("old")

    with pytest.raises(TypeError):
        write_atomic(str(path), 42)  # the write itself fails (not text)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["summary.json"]


def test_download_verifies_before_it_replaces(tmp_path):
    source = tmp_path / "official.bin"
    source.write_bytes(b"official bytes")
    good = hashlib.sha256(b"official bytes").hexdigest()
    destination = tmp_path / "cache" / "file.bin"
    assert download(source.as_uri(), str(destination), good) == str(destination)
    assert destination.read_bytes() == b"official bytes"
    destination.write_bytes(b"kept")
    with pytest.raises(ChecksumError, match="official.bin: sha256 .* does not match the published 11"):
        download(source.as_uri(), str(destination), "11" * 32)
    assert destination.read_bytes() == b"kept"  # a corrupted download never replaces the file
    assert os.listdir(destination.parent) == ["file.bin"]


def test_check_writable_before_the_work(tmp_path):
    check_writable(str(tmp_path / "new.csv"))
    with pytest.raises(AtomSetsInputError, match="the folder .*nodir does not exist"):
        check_writable(str(tmp_path / "nodir" / "out.csv"))
    existing = tmp_path / "out.csv"
    existing.write_text("mine")
    with pytest.raises(AtomSetsInputError, match="out.csv exists; use --force"):
        check_writable(str(existing))
    check_writable(str(existing), force=True)
    with pytest.raises(AtomSetsInputError, match="is a directory"):
        check_writable(str(tmp_path))
