"""The weekly model update check and access review through the real ansible, against real servers.

- ``model_updates_facts`` runs as a module against stand-ins on 127.0.0.1 that speak Ollama's API, the OCI
  distribution API of its registry and the Hugging Face Hub's API (tests/testlib/model_registries.py), with an
  Ollama store on disk holding Ollama's own manifest of gemma:2b (the capture) and a model manifest naming
  Hugging Face cache files.
- ``health_facts`` gathers area ``access`` from the log a real nginx wrote a moment before (two sites shaped
  like the runner_service role's, traffic from a client outside the known networks: testlib/front_door.py) and
  area ``model_updates`` with a registry that cannot be reached, in one module run, as the weekly does.
"""

import json
import socket
import time

import pytest
from testlib import front_door
from testlib.ansible_run import run_module
from testlib.model_registries import Registries, tag_entry
from testlib.system import apt_ensure

pytestmark = pytest.mark.integration

FIXTURES = __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "unit", "fixtures", "model_registries")
OLDER_REV, GPT2_REV = "e7da7f221d5bf496a48136c0cd264e630fe9fcc8", "607a30d783dfa663caf39e06633721c8d4cfcd7e"
SAFETENSORS = "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707"


def _read(name, mode="rb"):
    with open(__import__("os").path.join(FIXTURES, name), mode) as handle:
        return handle.read()


GEMMA = _read("ollama-manifest-gemma-2b.json")


def _newer(data):
    doc = json.loads(data)
    doc["layers"][0]["digest"] = "sha256:" + "ab" * 32   # new weights under the same tag
    return json.dumps(doc, separators=(",", ":")).encode()


def _hub(sha, safetensors):
    info = json.loads(_read("hf-model-info-gpt2.json", "r"))
    info["sha"] = sha
    info["siblings"][1]["lfs"]["sha256"] = safetensors
    return info


def _store(root, models):
    for (model, tag), data in models.items():
        folder = root / "manifests" / "registry.ollama.ai" / "library" / model
        folder.mkdir(parents=True, exist_ok=True)
        (folder / tag).write_bytes(data)
    return str(root)


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _checks(fact):
    return dict(((c["check"], c["subject"].get("model") or c["subject"].get("path") or ""), c) for c in fact["checks"])


def test_model_updates_facts_against_stand_in_registries(tmp_path):
    local = {("gemma", "2b"): GEMMA, ("qwen3", "4b"): GEMMA.replace(b"c1864a5e", b"d1864a5e")}
    served = {("library", "gemma", "2b"): GEMMA, ("library", "qwen3", "4b"): _newer(local[("qwen3", "4b")])}
    manifest = tmp_path / "models.json"
    manifest.write_text(json.dumps({"version": 1, "files": [
        {"path": "/srv/hf/models--openai-community--gpt2/snapshots/%s/model.safetensors" % OLDER_REV, "sha256": SAFETENSORS},
        {"path": "/srv/hf/models--org--tuned/snapshots/%s/model.safetensors" % OLDER_REV, "sha256": SAFETENSORS}]}))
    hub = {("openai-community/gpt2", "main"): _hub(GPT2_REV, SAFETENSORS), ("org/tuned", "main"): _hub(GPT2_REV, "ef" * 32)}
    tags = [tag_entry("gemma:2b", local[("gemma", "2b")]), tag_entry("qwen3:4b", local[("qwen3", "4b")])]
    with Registries(tags=tags, manifests=served, hub=hub) as servers:
        result = run_module("gpufleet.maintenance.model_updates_facts", {
            "ollama_url": servers.url, "ollama_models_dir": _store(tmp_path / "ollama", local),
            "ollama_registry": servers.url, "model_manifest": str(manifest), "hf_endpoint": servers.url})
        asked = sorted(r["path"] for r in servers.requests)
    assert result.get("failed") is not True and result["changed"] is False, result
    fact = result["ansible_facts"]["gpufleet_model_updates"]
    found = _checks(fact)
    assert found[("model_update_available", "gemma:2b")]["status"] == "ok"
    qwen = found[("model_update_available", "qwen3:4b")]
    assert qwen["status"] == "warn" and "read the changelog before switching" in qwen["message"]
    assert qwen["threshold"] == "sha256:" + tag_entry("x", local[("qwen3", "4b")])["digest"]
    assert found[("model_update_available", "openai-community/gpt2")]["status"] == "ok"
    tuned = found[("model_update_available", "org/tuned")]
    assert (tuned["status"], tuned["value"], tuned["threshold"]) == ("warn", GPT2_REV, OLDER_REV)
    assert found[("model_update_audit", "")]["status"] == "ok" and fact["status"] == "warn"
    assert asked == sorted(["/api/tags", "/v2/library/gemma/manifests/2b", "/v2/library/qwen3/manifests/4b",
                            "/api/models/openai-community/gpt2/revision/main?blobs=true",
                            "/api/models/org/tuned/revision/main?blobs=true"])
    assert [m["remote_header_digest"] == m["remote"] for m in fact["models"] if m["source"] == "ollama"] == [True, True]


def test_health_facts_reviews_a_real_nginx_log_and_never_calls_unreachable_registries_ok(tmp_path):
    apt_ensure("nginx-light", "iproute2", "util-linux")
    log = tmp_path / "access.log"
    work = tmp_path / "front-door"
    work.mkdir()
    statuses = front_door.record(str(work), str(log))
    assert statuses == [[expected] * count for _s, _site, _k, count, expected in front_door.TRAFFIC]
    now = int(time.time()) + 1
    with Registries(tags=[tag_entry("gemma:2b", GEMMA)]) as servers:
        result = run_module("gpufleet.maintenance.health_facts", {
            "areas": ["access", "model_updates"],
            "access": {"log_paths": [str(log)], "now": now, "since_days": 7},
            "model_updates": {"ollama_url": servers.url, "ollama_models_dir": str(tmp_path / "no-store"),
                              "ollama_registry": "http://127.0.0.1:%d" % _closed_port()}})
    assert result.get("failed") is not True, result
    access = result["ansible_facts"]["gpufleet_access"]
    assert access["requests"] == 86 and access["status_classes"]["5xx"] == 6 and access["unauthorized"] == 45
    assert access["unknown_client_list"] == [{"client": front_door.UNKNOWN, "requests": 48, "ok_2xx": 3, "unauthorized": 45}]
    found = _checks(access)
    assert found[("access_log", str(log))]["status"] == "ok"
    burst = found[("unauthorized_burst", "")]
    assert burst["status"] == "warn" and burst["value"] >= 23 and front_door.UNKNOWN in burst["message"]
    assert found[("server_error_rate", "")]["status"] == "crit" and "6 of 86" in found[("server_error_rate", "")]["message"]
    assert found[("unknown_clients", "")]["status"] == "warn"
    assert access["status"] == "crit"
    updates = result["ansible_facts"]["gpufleet_model_updates"]
    gemma = _checks(updates)[("model_update_available", "gemma:2b")]
    assert gemma["status"] == "unknown" and "cannot reach" in gemma["message"]
    assert updates["status"] == "unknown"
    assert set(result["seconds"]) == {"access", "model_updates"}
