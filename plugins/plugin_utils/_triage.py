# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emergency triage: the guides' runbook table as rules over the facts a triage run gathered.

Each rule is a pure function ``rule(facts, settings)`` over the ``gpufleet_*`` facts of one host
(``gpufleet_gpu``, ``gpufleet_driver_stack``, ``gpufleet_models``, ``gpufleet_maintenance``,
``gpufleet_benchmark``) plus ``runner`` (the runner's systemd unit or Docker container as the triage play
read it) and ``models_error`` (why the model files could not be verified). It
returns a :func:`finding`: whether its cause matched, the evidence (what was read, in numbers), a
confidence (0-100, the rank), the fix and the exact command, the safe remedy the play may apply
(``restart``, or None) and what it could not look at. :func:`diagnose` runs every rule and ranks
the matched causes, most likely first; nothing matched is never "all fine" while an area or a
rule's input could not be read. :func:`plan_fixes` turns the matched causes into the safe actions
of ``triage_fix`` (restarting the runner, nothing else). Controller-side; no Ansible import, no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._action_specs import TRIAGE
from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import fmt_number

SCHEMA_VERSION = 1

# The settings the rules read and their defaults (the guides' numbers), from the action's argument spec:
# ttft_crit_s 10 ("TTFT over 10 s"), vram_high_pct 95 (near an out-of-memory error), gpu_busy_pct 95
# ("GPU at 100 %"), low_tokens_per_s 10 (decode slower than this under a busy GPU), runner_unit or
# runner_container (the runner's systemd unit or Docker container), endpoint and model (what the play probed;
# "" = not probed).
DEFAULTS = dict((name, spec["default"]) for name, spec in TRIAGE["settings"]["options"].items())

# The facts triage reads, with the area that sets each (for "could not look at").
FACTS = (
    ("gpufleet_gpu", "gpu"),
    ("gpufleet_driver_stack", "driver_stack"),
    ("gpufleet_models", "models"),
    ("gpufleet_maintenance", "maintenance"),
    ("gpufleet_benchmark", "llm"),
)

# Systemd results that mean the unit gave up restarting (Restart= hit StartLimitBurst).
_START_LIMIT = ("start-limit-hit", "start-limit")
_CORRUPT = ("checksum_mismatch", "size_mismatch", "blob_digest_mismatch", "missing")


def settings_of(given):
    """The defaults with the settings given (None: the default)."""
    merged = dict(DEFAULTS)
    merged.update((k, v) for k, v in (given or {}).items() if v is not None)
    for key in ("ttft_crit_s", "vram_high_pct", "gpu_busy_pct", "low_tokens_per_s"):
        merged[key] = float(merged[key])
    return merged


def finding(rule, cause, matched, confidence, evidence, fix, command, remedy=None, unread=None):
    """One rule's verdict: ``{rule, cause, matched, confidence, evidence, fix, command, remedy, unread}``.

    ``confidence`` is 0 when the cause did not match; ``unread`` lists what the rule needed and could
    not read (it did not match, but it could not have).
    """
    return dict(rule=rule, cause=cause, matched=bool(matched), confidence=int(confidence) if matched else 0,
                evidence=list(evidence), fix=fix, command=command, remedy=remedy if matched else None,
                unread=list(unread or []))


# --- reading the facts -----------------------------------------------------------------------------

def _fact(facts, name):
    fact = (facts or {}).get(name)
    return fact if isinstance(fact, dict) else None


def _checks(fact, name=None, statuses=None):
    found = []
    for check in (fact or {}).get("checks") or []:
        if not isinstance(check, dict):
            continue
        if name is not None and check.get("check") != name:
            continue
        if statuses is not None and check.get("status") not in statuses:
            continue
        found.append(check)
    return found


def gpus(facts):
    """Every GPU of ``gpufleet_gpu``: ``[{vendor, index, name, vram_pct, busy_pct}]`` (None: not reported)."""
    fact = _fact(facts, "gpufleet_gpu") or {}
    found = []
    for vendor, key in (("nvidia", "memory_used_pct"), ("amd", "vram_used_pct")):
        for gpu in (fact.get(vendor) or {}).get("gpus") or []:
            found.append(dict(vendor=vendor, index=gpu.get("index"), name=gpu.get("name") or "?",
                              vram_pct=gpu.get(key), busy_pct=gpu.get("utilization_gpu_pct")))
    return found


def _label(gpu):
    return "GPU %s (%s)" % (gpu["index"], gpu["name"])


def full_vram(facts, settings):
    """The evidence of each GPU at or above ``vram_high_pct`` VRAM use (a GPU that reports none never counts)."""
    limit = settings["vram_high_pct"]
    return ["%s VRAM %s %% used (at or above %s %%)" % (_label(gpu), fmt_number(gpu["vram_pct"]), fmt_number(limit))
            for gpu in gpus(facts) if gpu["vram_pct"] is not None and gpu["vram_pct"] >= limit]


def _probe(facts):
    """The LLM probe of ``gpufleet_benchmark`` (its ``probe``), or None when the endpoint was not probed."""
    fact = _fact(facts, "gpufleet_benchmark")
    if fact is None:
        return None
    return fact.get("probe") if isinstance(fact.get("probe"), dict) else None


def _probe_checks(facts, name, statuses=None):
    fact = _fact(facts, "gpufleet_benchmark")
    return _checks(fact, name, statuses)


def _medians(probe, key):
    values = []
    for entry in (probe or {}).get("results") or []:
        median = (entry.get(key) or {}).get("median") if isinstance(entry.get(key), dict) else None
        if median is not None:
            values.append(median)
    return values


def _not_probed(settings):
    if settings.get("endpoint"):
        return "the LLM probe of %s did not run" % settings["endpoint"]
    return "the LLM endpoint was not probed (set triage_llm_endpoint and triage_llm_model)"


def named_runner(settings):
    """``(kind, name)`` of the runner the operator named: ``systemd`` (runner_unit), ``container``
    (runner_container), or ``(None, "")``."""
    if settings.get("runner_container"):
        return "container", settings["runner_container"]
    if settings.get("runner_unit"):
        return "systemd", settings["runner_unit"]
    return None, ""


def _commands(settings):
    """``(logs, restart)`` commands for the named runner."""
    kind, name = named_runner(settings)
    if kind == "container":
        return "docker logs --tail 200 %s" % name, "docker restart %s" % name
    if kind == "systemd":
        return "journalctl -u %s -n 200 --no-pager" % name, "systemctl restart %s" % name
    return ("read the runner's logs (journalctl -u UNIT, docker logs CONTAINER)",
            "restart the runner (name it with triage_runner_unit or triage_runner_container)")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def runner_state(runner):
    """The runner as the play read it: the registered result of ``ansible.builtin.systemd_service`` (``kind``
    systemd: its ``status``) or of ``community.docker.docker_container_info`` (``kind`` container: ``exists``
    and ``container``), with ``name`` and ``kind`` added by the play.

    ``{kind, name, read, reason, installed, down, text, restarts, limit_hit, oom_killed}``: ``read`` is False
    (with the ``reason``) when nothing was named or the read failed; ``text`` is the evidence line.
    """
    runner = runner or {}
    kind, name = runner.get("kind") or "systemd", runner.get("name") or ""
    state = dict(kind=kind, name=name, read=False, reason=None, installed=None, down=False, text=None,
                 restarts=None, limit_hit=False, oom_killed=False)
    if not name:
        state["reason"] = "no runner named (triage_runner_unit or triage_runner_container)"
        return state
    what = "container" if kind == "container" else "unit"
    if runner.get("failed") or (kind == "container" and "exists" not in runner) or (
            kind != "container" and not (isinstance(runner.get("status"), dict) and runner["status"])):
        said = " ".join((runner.get("msg") or "nothing returned").split())
        state["reason"] = "could not read %s %s: %s" % (what, name, said[:300])
        return state
    state["read"] = True
    if kind == "container":
        _container_state(state, runner)
    else:
        _unit_state(state, runner["status"])
    return state


def _unit_state(state, status):
    name = state["name"]
    active, result = status.get("ActiveState"), status.get("Result")
    restarts, burst = _int(status.get("NRestarts")), _int(status.get("StartLimitBurst"))
    state.update(installed=status.get("LoadState") != "not-found", restarts=restarts, oom_killed=result == "oom-kill")
    if not state["installed"]:
        state.update(down=True, text="unit %s is not installed (LoadState=not-found)" % name)
        return
    state["down"] = active in ("inactive", "failed")
    state["text"] = "unit %s is %s (%s), Result=%s" % (name, active, status.get("SubState"), result)
    if restarts is not None:
        state["text"] += ", NRestarts=%d" % restarts
    # systemd gave up restarting it: Result=start-limit-hit, or (systemd 252 keeps the last exit's result)
    # failed after as many restarts as its StartLimitBurst
    state["limit_hit"] = result in _START_LIMIT or (
        active == "failed" and restarts is not None and burst is not None and restarts >= burst)
    if state["limit_hit"]:
        state["limit_text"] = "systemd stopped restarting %s: %s restart(s), StartLimitBurst=%s" % (name, restarts, burst)


def _container_state(state, runner):
    name = state["name"]
    if not runner.get("exists"):
        state.update(installed=False, down=True, text="container %s does not exist" % name)
        return
    container = runner.get("container") or {}
    status = container.get("State") or {}
    restarts = _int(container.get("RestartCount"))
    state.update(installed=True, restarts=restarts, oom_killed=bool(status.get("OOMKilled")),
                 down=not status.get("Running") or bool(status.get("Restarting")))
    state["text"] = "container %s is %s (exit code %s%s), RestartCount=%s" % (
        name, status.get("Status"), status.get("ExitCode"), ", OOMKilled" if state["oom_killed"] else "", restarts)


# --- the rules, in the runbook's order -------------------------------------------------------------

def driver_library_mismatch(facts, settings):
    """A driver/library mismatch after an update: NVML fails with "Driver/library version mismatch"."""
    evidence = []
    for name in ("gpufleet_gpu", "gpufleet_driver_stack"):
        for check in _checks(_fact(facts, name), "driver_library_mismatch", ("crit", "warn")):
            evidence.append("%s: %s" % (name, check.get("message")))
        for check in _checks(_fact(facts, name), "nvml_init", ("crit", "warn")):
            if "mismatch" in (check.get("message") or "").lower():
                evidence.append("%s: %s" % (name, check.get("message")))
    unread = []
    if _fact(facts, "gpufleet_gpu") is None and _fact(facts, "gpufleet_driver_stack") is None:
        unread.append("neither the gpu nor the driver_stack area was gathered")
    return finding(
        "driver_library_mismatch", "NVIDIA driver/library mismatch after an update (the kernel module is older than "
        "the libraries)", evidence, 95, evidence,
        "reboot the host so the new kernel module loads (or stop every GPU process and reload the nvidia modules); "
        "restarting the runner does not help", "sudo reboot", unread=unread)


def runner_down(facts, settings):
    """Connection refused: the runner is down (nothing listening, or its unit or container stopped or failed)."""
    evidence, unread = [], []
    refused = _probe_checks(facts, "llm_endpoint", ("crit",))
    evidence.extend("LLM probe: %s" % check.get("message") for check in refused)
    runner = runner_state(facts.get("runner"))
    if runner["down"]:
        evidence.append(runner["text"])
    elif runner["read"] and refused:
        evidence.append(runner["text"] + " but its endpoint refuses connections")
    if not runner["read"] and named_runner(settings)[1]:
        unread.append(runner["reason"] if facts.get("runner") else "the runner %s was not read" % named_runner(settings)[1])
    if _probe(facts) is None:
        unread.append(_not_probed(settings))
    logs, restart = _commands(settings)
    kind, name = named_runner(settings)
    fix = "read the runner's logs, restart it"
    command = "%s; %s" % (logs, restart)
    if runner["limit_hit"]:
        evidence.append(runner["limit_text"])
        fix += ("; systemd stopped restarting it (start limit hit): raise StartLimitBurst/StartLimitIntervalSec "
                "in the unit's [Unit] section (systemctl edit %s) after finding why it crashes" % name)
        command = "%s; systemctl reset-failed %s; %s" % (logs, name, restart)
    elif kind == "container":
        fix += "; if it keeps stopping, give it a restart policy (--restart unless-stopped) after finding why it crashes"
    else:
        fix += "; if it keeps stopping, raise the unit's restart limit (StartLimitBurst) after finding why it crashes"
    confidence = 90 if refused and runner["down"] else 80 if refused else 70
    return finding("runner_down", "the runner is down (connection refused)", refused or runner["down"], confidence,
                   evidence, fix, command, remedy="restart", unread=unread)


def corrupted_model(facts, settings):
    """Gibberish output or a model file that no longer matches its checksum: a corrupted model."""
    evidence, unread = [], []
    models = _fact(facts, "gpufleet_models")
    changed = [p for p in (models or {}).get("problems") or [] if p.get("problem") in _CORRUPT]
    for problem in changed[:5]:
        evidence.append("model file %s: %s (%s)" % (problem.get("path"), problem.get("problem"), problem.get("detail")))
    if len(changed) > 5:
        evidence.append("... and %d more model file(s)" % (len(changed) - 5))
    if models is None and facts.get("models_error"):
        unread.append("could not verify the model files: %s" % " ".join(str(facts["models_error"]).split())[:300])
    elif models is None:
        unread.append("model checksums were not verified (set triage_model_manifest)")
    gibberish = _probe_checks(facts, "llm_expect", ("crit",))
    for check in gibberish:
        evidence.append("LLM probe: %s" % check.get("message"))
    model = settings.get("model") or "MODEL"
    confidence = 90 if changed and gibberish else 85 if changed else 60
    return finding(
        "corrupted_model", "a corrupted model (gibberish output, or a file that no longer matches its checksum)",
        changed or gibberish, confidence, evidence,
        "re-download the model, then verify its checksum against the manifest",
        "ollama rm %s && ollama pull %s (or re-fetch the file); then ansible-playbook gpufleet.maintenance.triage "
        "-e triage_model_manifest=MANIFEST" % (model, model), unread=unread)


def vram_leak(facts, settings):
    """Time to first token over the limit (10 s): a runner leaking VRAM; restart it."""
    evidence, unread = [], []
    limit = settings["ttft_crit_s"]
    probe = _probe(facts)
    slow = [t for t in _medians(probe, "ttft_s") if t >= limit]
    for ttft in slow:
        evidence.append("time to first token %s s (limit %s s)" % (fmt_number(ttft), fmt_number(limit)))
    for check in _probe_checks(facts, "llm_request", ("crit",)):
        if "no first token within" in (check.get("message") or ""):
            slow.append(None)
            evidence.append("LLM probe: %s" % check.get("message"))
    if probe is None:
        unread.append(_not_probed(settings))
    full = full_vram(facts, settings)
    if slow:
        evidence.extend(full)
    if _fact(facts, "gpufleet_gpu") is None:
        unread.append("the GPUs were not read")
    return finding(
        "vram_leak", "the runner leaks VRAM (time to first token over %s s)" % fmt_number(limit), slow,
        85 if full else 55, evidence,
        "restart the runner; if it recurs, turn on gpufleet_restart_on_vram_exhaustion (daily vram_guard) and look "
        "for the leak (runner version, models loaded twice)", _commands(settings)[1], remedy="restart",
        unread=unread)


def context_too_long(facts, settings):
    """GPU at 100 % with low tokens/s: the context is too long."""
    evidence, unread = [], []
    probe = _probe(facts)
    rates = _medians(probe, "decode_tokens_per_s")
    low = [r for r in rates if r < settings["low_tokens_per_s"]]
    busy = [g for g in gpus(facts) if g["busy_pct"] is not None and g["busy_pct"] >= settings["gpu_busy_pct"]]
    if probe is None:
        unread.append(_not_probed(settings))
    if _fact(facts, "gpufleet_gpu") is None:
        unread.append("the GPUs were not read")
    elif not [g for g in gpus(facts) if g["busy_pct"] is not None]:
        unread.append("no GPU reported its utilisation")
    matched = bool(low and busy)
    if matched:
        evidence.extend("%s utilisation %s %%" % (_label(g), fmt_number(g["busy_pct"])) for g in busy)
        evidence.extend("decode %s tokens/s (low: under %s)" % (fmt_number(r), fmt_number(settings["low_tokens_per_s"]))
                        for r in low)
    return finding(
        "context_too_long", "the context is too long (GPU busy, few tokens/s)", matched, 75, evidence,
        "lower the maximum tokens and context size (Ollama num_ctx, llama.cpp --ctx-size, vLLM --max-model-len) or "
        "summarise long conversations before sending them",
        "set num_ctx / --ctx-size lower in the runner's configuration, then restart it", unread=unread)


def oom_near_miss(facts, settings):
    """Out-of-memory near-misses: VRAM near full, OOM lines in the journal or the runner logs, a runner the
    OOM killer ended (systemd ``Result=oom-kill``, Docker ``OOMKilled``), a probe answered with an OOM error."""
    unread = []
    evidence = full_vram(facts, settings)
    full = bool(evidence)
    maintenance = _fact(facts, "gpufleet_maintenance")
    lines = 0
    if maintenance is None:
        unread.append("the journal and runner logs were not reviewed")
    else:
        journal = maintenance.get("journal") or {}
        if journal.get("present"):
            if journal.get("oom"):
                lines += journal["oom"]
                evidence.append("%d out-of-memory line(s) in the journal" % journal["oom"])
        # a journal that could not be read is the maintenance area's own unknown check (not_looked)
        runner_logs = maintenance.get("runner_logs") or {}
        if runner_logs.get("oom"):
            lines += runner_logs["oom"]
            evidence.append("%d out-of-memory line(s) in the runner logs (%d file(s))"
                            % (runner_logs["oom"], runner_logs.get("files") or 0))
        for unread_log in maintenance.get("runner_logs_unread") or []:
            unread.append("runner log: %s" % unread_log)
    runner = runner_state(facts.get("runner"))
    if runner["oom_killed"]:
        lines += 1
        evidence.append("the out-of-memory killer ended the runner: %s" % runner["text"])
    for check in _probe_checks(facts, "llm_request", ("crit",)):
        # what the runner said, without the advice the probe adds to any HTTP 5xx ("out of memory, model failed ...")
        said = (check.get("message") or "").split(": check the runner's logs")[0]
        if "out of memory" in said.lower():
            lines += 1
            evidence.append("LLM probe: %s" % check.get("message"))
    if _fact(facts, "gpufleet_gpu") is None:
        unread.append("the GPUs were not read")
    confidence = 80 if full and lines else 70 if lines else 50
    return finding(
        "oom_near_miss", "out-of-memory near-misses (VRAM near full, OOM lines in the logs)", full or lines,
        confidence, evidence,
        "load one model at a time (OLLAMA_MAX_LOADED_MODELS=1), lower the context or batch size, or use a smaller "
        "quantisation; find what else holds VRAM",
        "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv; journalctl -k --since '-1h' "
        "--grep 'out of memory'", unread=unread)


RULES = (driver_library_mismatch, runner_down, corrupted_model, vram_leak, context_too_long, oom_near_miss)


# --- the diagnosis ---------------------------------------------------------------------------------

def not_looked(facts):
    """What the gathered areas could not look at: ``[{area, check, message}]`` (their ``unknown`` checks)."""
    found = []
    for name, area in FACTS:
        for check in _checks(_fact(facts, name), statuses=("unknown",)):
            found.append(dict(area=area, check=check.get("check"), message=check.get("message")))
    return found


def rank(findings):
    """The matched findings, most likely first (confidence, then the runbook's order)."""
    order = dict((f["rule"], i) for i, f in enumerate(findings))
    return sorted((f for f in findings if f["matched"]), key=lambda f: (-f["confidence"], order[f["rule"]]))


def diagnose(facts, given=None):
    """Every rule over ``facts``; returns the diagnosis.

    ``{schema_version, status, causes (matched, ranked), unmatched (rule names), not_looked (unknown
    checks of the areas), unread (what the rules needed and could not read), runner (the runner as read,
    :func:`runner_state`), lines (to print)}``.
    ``status``: ``crit`` when a cause matched, ``unknown`` when none did but something could not be
    read, ``ok`` only when every rule had its inputs and none matched.
    """
    if not isinstance(facts, dict):
        raise TypeError("triage expects a dict of facts, got %s" % type(facts).__name__)
    settings = settings_of(given)
    findings = [rule(facts, settings) for rule in RULES]
    causes = rank(findings)
    unmatched = [f["rule"] for f in findings if not f["matched"]]
    unknowns = not_looked(facts)
    unread = []
    for found in findings:
        for reason in found["unread"]:
            if reason not in unread:
                unread.append(reason)
    if causes:
        status = "crit"
    elif unknowns or unread:
        status = "unknown"
    else:
        status = "ok"
    result = dict(schema_version=SCHEMA_VERSION, status=status, causes=causes, unmatched=unmatched,
                  not_looked=unknowns, unread=unread, settings=settings, runner=runner_state(facts.get("runner")))
    result["lines"] = lines(result)
    return result


def lines(diagnosis):
    """The diagnosis as the lines the play prints: the causes ranked, each with evidence, fix and command."""
    out = []
    causes = diagnosis["causes"]
    if causes:
        out.append("%d likely cause(s), most likely first:" % len(causes))
        for number, cause in enumerate(causes, 1):
            out.append("%d. %s (confidence %d %%)" % (number, cause["cause"], cause["confidence"]))
            out.extend("   evidence: %s" % item for item in cause["evidence"])
            out.append("   fix: %s" % cause["fix"])
            out.append("   command: %s" % cause["command"])
    else:
        out.append("no runbook cause matched what the checks read (%s)" % ", ".join(diagnosis["unmatched"]))
    if diagnosis["not_looked"] or diagnosis["unread"]:
        out.append("could not look at (this is not an all-clear for them):")
        out.extend("- %s/%s: %s" % (u["area"], u["check"], u["message"]) for u in diagnosis["not_looked"])
        out.extend("- %s" % reason for reason in diagnosis["unread"])
    elif not causes:
        out.append("every area triage reads was looked at")
    return out


def plan_fixes(diagnosis, apply=False, check_mode=False):
    """The safe fixes of the matched causes: ``{actions, skipped, lines}``.

    Only restarting the runner is safe to apply unattended. It is planned once, when a matched cause's
    remedy is ``restart`` and the runner (unit or container) was read and exists; never when the driver/library
    mismatch matched (the runner cannot get the GPU back before a reboot). ``skipped`` says why a wanted
    restart was not planned; ``lines`` say what the play will do with the plan (``apply``: triage_fix is
    on; ``check_mode``: it only says so).
    """
    actions, skipped = [], []
    causes = diagnosis.get("causes") or []
    runner = diagnosis.get("runner") or runner_state(None)
    wanting = [c for c in causes if c.get("remedy") == "restart"]
    if wanting:
        reasons = ", ".join(c["rule"] for c in wanting)
        if any(c["rule"] == "driver_library_mismatch" for c in causes):
            skipped.append("no restart (%s): the driver/library mismatch needs a reboot first" % reasons)
        elif not runner["read"]:
            skipped.append("no restart (%s): %s" % (reasons, runner["reason"]))
        elif not runner["installed"]:
            skipped.append("no restart (%s): %s" % (reasons, runner["text"]))
        else:
            actions.append(dict(action="restart", kind=runner["kind"], name=runner["name"], reason=reasons))
    lines = []
    for action in actions:
        what = "restart %s (%s) for %s" % (action["name"], action["kind"], action["reason"])
        if not apply:
            lines.append("would %s: run with -e triage_fix=true to apply it" % what)
        elif check_mode:
            lines.append("would %s (check mode: nothing is restarted)" % what)
        else:
            lines.append("will %s" % what)
    lines.extend(skipped)
    if not lines:
        lines.append("no safe fix to apply")
    return dict(actions=actions, skipped=skipped, lines=lines)
