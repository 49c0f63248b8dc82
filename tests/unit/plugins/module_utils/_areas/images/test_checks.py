"""Area images: the checks table and its verdicts over an audit, and the summary line."""

import pytest

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images import AREA, present
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.audit import audit
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.checks import audit_checks, evaluate
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.images.parse import validate
from testlib.engine_dicts import IDX, NEW, OLD, REG, pin_scene


@pytest.fixture
def engine():
    return pin_scene()


def _checks_by_name(checks):
    result = {}
    for check in checks:
        result.setdefault(check["check"], []).append(check)
    return result


def test_audit_checks_name_each_problem_with_its_fix(engine):
    images, containers = engine
    entries = validate([{"image": REG + ":1", "digest": OLD}, {"image": "busybox", "digest": IDX},
                        {"image": "ollama/ollama:0.5.7", "digest": OLD}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"},
              "busybox:latest": {"digest": None, "kind": None, "pinned_kind": None,
                                 "error": "busybox:latest: the registry did not answer for the tag: timeout"}}
    report = audit(entries, images, containers, remote)
    checks, status = audit_checks(report, check_remote=True)
    assert status == "warn"
    by = _checks_by_name(checks)
    pin_msgs = [c["message"] for c in by["image_pin"]]
    assert any("ollama/ollama:0.5.7" in m and "not on this host" in m and "mode=enforce" in m for m in pin_msgs)
    assert any(m.startswith(REG + ":1: the local tag points to another image") for m in pin_msgs)
    [update, unknown] = by["image_update"]
    assert update["status"] == "warn" and update["image"] == REG + ":1" and update["value"] == NEW
    assert "read the changelog before bumping" in update["message"]
    assert unknown["image"] == "busybox:latest" and "did not answer" in unknown["message"] and "docker login" in unknown["message"]
    assert [c["container"] for c in by["image_unpinned"]] == ["tool"]
    assert by["image_stale"][0]["container"] == "app-old" and "recreate" in by["image_stale"][0]["message"]
    assert all(c["status"] in ("ok", "warn") for c in checks)


def test_audit_checks_all_in_order_is_one_ok_check(engine):
    images, containers = engine
    entries = validate([{"image": "busybox", "digest": IDX}])
    running = [c for c in containers if c["Names"][0] in ("/bb", "/stopped")]
    remote = {"busybox:latest": {"digest": IDX, "kind": "index", "pinned_kind": "index", "error": None}}
    report = audit(entries, images, running, remote)
    checks, status = audit_checks(report, check_remote=True)
    assert status == "ok"
    assert [(c["check"], c["status"], c["value"], c["subject"]) for c in checks] == [("image_audit", "ok", 1, {})]
    assert "the registry serves the pinned digests" in checks[0]["message"]
    # Without check_remote, "cannot compare" notes are not turned into warnings.
    report = audit(entries, images, running, {})
    assert audit_checks(report)[1] == "ok"


def test_audit_checks_uncomparable_digest_kinds_warn_without_claiming_an_update(engine):
    images, containers = engine
    entries = validate([{"image": "busybox", "digest": IDX}])
    remote = {"busybox:latest": {"digest": NEW, "kind": "manifest", "pinned_kind": "index", "error": None}}
    report = audit(entries, images, [], remote)
    checks, status = audit_checks(report, check_remote=True)
    [check] = checks
    assert status == "warn" and check["check"] == "image_update" and "cannot be compared" in check["message"]
    assert "read the changelog" not in check["message"]


def test_audit_checks_compose_services_without_digest():
    checks, status = audit_checks({"entries": [], "compose_unpinned": [
        {"file": "/srv/webui/compose.yaml", "service": "webui", "image": "ghcr.io/open-webui/open-webui:main"}]})
    assert status == "warn" and checks[0]["container"] == "webui" and "without a digest" in checks[0]["message"]


def test_summary_section():
    assert present.summary_lines({"entries": [], "checks": [{"message": "no image pin manifest at /x"}]}) == [
        "images: no image pin manifest at /x"]
    fact = {"entries": [{"status": "ok", "update_available": True}, {"status": "drift", "update_available": None},
                        {"status": "ok", "update_available": False}]}
    assert present.summary_lines(fact) == ["images: 3 pinned (1 drift, 2 ok), 1 with an update upstream"]


def test_without_a_manifest_is_an_ok_note():
    params = AREA.validate({"check_remote": True})
    absent = {"manifest": "/etc/gpufleet/images.yml", "manifest_present": False, "problem": None, "entries": []}
    [note] = evaluate(absent, params)
    assert (note["check"], note["status"], note["subject"]) == ("image_audit", "ok", {})
    assert note["message"] == ("no image pin manifest at /etc/gpufleet/images.yml: nothing to audit (write one with "
                               "gpufleet.maintenance.image_digest mode=lock)")


@pytest.mark.parametrize("status, reason, message", [
    ("crit", "Docker is installed (/usr/sbin/dockerd) but the daemon does not answer (x), so the pins in /m.yml cannot "
             "be audited",
     "Docker is installed (/usr/sbin/dockerd) but the daemon does not answer (x), so the pins in /m.yml cannot be "
     "audited: start it"),
    ("unknown", "the Docker SDK for Python is not installed, so the pins in /m.yml cannot be audited",
     "could not look: the Docker SDK for Python is not installed, so the pins in /m.yml cannot be audited: start it"),
])
def test_an_audit_that_could_not_be_made_is_crit_or_unknown_never_ok(status, reason, message):
    broken = {"manifest": "/m.yml", "manifest_present": True, "problem": {"status": status, "reason": reason, "fix": "start it"}}
    [check] = evaluate(broken, AREA.validate({}))
    assert (check["check"], check["status"], check["message"]) == ("image_audit", status, message)


def test_fact_from_an_audit(engine, monkeypatch):
    images, containers = engine
    entries = validate([{"image": REG + ":1", "digest": OLD}])
    remote = {REG + ":1": {"digest": NEW, "kind": "manifest", "pinned_kind": "manifest"}}
    data = dict(audit(entries, images, containers, remote), compose_unpinned=[], manifest="/m.yml", check_remote=True,
                manifest_present=True, problem=None)
    monkeypatch.setattr(AREA, "collect", lambda run_command, params: (data, []))
    fact, warnings = AREA.gather(None, AREA.validate({"manifest": "/m.yml", "check_remote": True}))
    assert fact["schema_version"] == 1 and fact["check_remote"] is True and fact["manifest_present"] is True
    assert [e["image"] for e in fact["entries"]] == [REG + ":1"] and [u["name"] for u in fact["unpinned"]] == ["tool"]
    assert fact["status"] == "warn" and warnings == []
    assert sorted(set(c["check"] for c in fact["checks"])) == ["image_pin", "image_stale", "image_unpinned", "image_update"]


def test_a_drift_names_the_containers_that_do_not_run_the_pin_and_only_them():
    digest = "sha256:" + "a" * 64
    entry = {"image": "vllm/vllm-openai:v0.8.5", "digest": digest, "status": "drift",
             "containers": [{"name": "server", "runs_pinned": False}, {"name": "canary", "runs_pinned": True}]}
    checks, status = audit_checks({"entries": [entry]})
    [pin] = [c for c in checks if c["check"] == "image_pin"]
    assert status == "warn" and pin["status"] == "warn" and pin["value"] == digest
    assert pin["message"].startswith("vllm/vllm-openai:v0.8.5: containers server do not run the pinned image: ")
    entry["containers"] = []
    [pin] = [c for c in audit_checks({"entries": [entry]})[0] if c["check"] == "image_pin"]
    assert pin["message"].startswith("vllm/vllm-openai:v0.8.5: the local tag points to another image than the pin: ")


def _ok_entry(name):
    return {"image": name, "digest": "sha256:" + "b" * 64, "status": "ok", "update_available": False}


@pytest.mark.parametrize("entries, check_remote, message", [
    ([_ok_entry("busybox:1.36")], False, "1 pinned image match the engine"),
    ([_ok_entry("busybox:1.36"), _ok_entry("redis:7")], True,
     "2 pinned images match the engine; the registry serves the pinned digests"),
    ([], True, "0 pinned images match the engine"),   # nothing pinned: nothing was asked of the registry
])
def test_the_ok_audit_message_counts_the_pins_and_mentions_the_registry_only_when_asked(entries, check_remote, message):
    checks, status = audit_checks({"entries": entries}, check_remote=check_remote)
    assert status == "ok"
    assert [(c["check"], c["value"], c["message"]) for c in checks] == [("image_audit", len(entries), message)]
