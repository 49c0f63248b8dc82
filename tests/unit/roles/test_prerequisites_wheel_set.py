"""roles/prerequisites/files/wheel_set.py: pip's real installation report -> the archive and the set
description the hosts get (the stamp the role compares)."""

import importlib.util
import io
import json
import os
import tarfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REPORT = os.path.join(ROOT, "tests", "unit", "fixtures", "prerequisites", "pip-report-py3.11.json")


@pytest.fixture(scope="module")
def wheel_set():
    spec = importlib.util.spec_from_file_location("wheel_set", os.path.join(ROOT, "roles", "prerequisites", "files", "wheel_set.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report():
    with open(REPORT) as handle:
        return json.load(handle)


def test_describe_pins_every_package_of_the_report(wheel_set, report):
    description, files = wheel_set.describe(report, "3.11", "/cache/sets/x-py3.11.tar")
    assert description["requirements"] == sorted([
        "certifi==2026.10.19.post1", "chardet==7.7.0", "charset-normalizer==3.5.3", "docker==7.2.0", "humanfriendly==10.0",
        "idna==3.20", "nvidia-ml-py==13.615.71", "pip==26.3", "pySMART==1.4.3", "requests==2.34.2", "urllib3==2.8.0"])
    assert description["sha256"]["docker-7.2.0-py3-none-any.whl"] == "a3f45fdeb9165e2d25d9a1d02ddf3bc70fb572cf5ebbf9b58558c22caf29b71f"
    assert description["python"] == "3.11" and description["archive"] == "/cache/sets/x-py3.11.tar"
    assert len(files) == 11 and all(f.startswith("/") and f.endswith(".whl") for f in files)   # file:// URLs -> paths


def test_percent_encoded_urls_become_paths(wheel_set):
    item = {"metadata": {"name": "demo", "version": "1.0+local"},
            "download_info": {"url": "file:///cache/my%20wheels/demo-1.0%2Blocal-py3-none-any.whl",
                              "archive_info": {"hashes": {"sha256": "ab" * 32}}}}
    description, files = wheel_set.describe({"install": [item]}, "3.12", "a.tar")
    assert files == ["/cache/my wheels/demo-1.0+local-py3-none-any.whl"]
    assert description["sha256"] == {"demo-1.0+local-py3-none-any.whl": "ab" * 32}


def test_write_packs_the_wheels_flat_and_describes_them(wheel_set, tmp_path):
    wheels = tmp_path / "nested" / "cache"
    wheels.mkdir(parents=True)
    items = []
    for name in ("a", "b"):
        path = wheels / ("%s-1.0-py3-none-any.whl" % name)
        path.write_bytes(name.encode())
        items.append({"metadata": {"name": name, "version": "1.0"},
                      "download_info": {"url": "file://" + str(path), "archive_info": {"hashes": {"sha256": name * 64}}}})
    archive, setfile = tmp_path / "sets" / "k-py3.11.tar", tmp_path / "sets" / "k-py3.11.json"
    stdin, stdout = io.StringIO(json.dumps({"install": items})), io.StringIO()
    wheel_set.sys.stdin, wheel_set.sys.stdout = stdin, stdout
    try:
        assert wheel_set.main(["wheel_set.py", str(archive), str(setfile), "3.11"]) == 0
    finally:
        wheel_set.sys.stdin, wheel_set.sys.stdout = wheel_set.sys.__stdin__, wheel_set.sys.__stdout__
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"]
    assert json.loads(setfile.read_text())["requirements"] == ["a==1.0", "b==1.0"]
    assert sorted(os.listdir(tmp_path / "sets")) == ["k-py3.11.json", "k-py3.11.tar"]   # no .part left
    assert "2 wheels for Python 3.11" in stdout.getvalue()
