# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model_updates area's checks: the table (data) and the verdicts over the comparisons.

Reported like image updates (the images area's ``image_update``): a newer version upstream is a ``warn``
with both identifiers and "read the changelog before switching"; models are never updated here. A model
that could not be compared is ``unknown`` with the reason and the fix, never ``ok``. Pure functions, no
Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.gpufleet.maintenance.plugins.module_utils._common.checks import Check, CheckTable, newer_upstream

CHECKS = CheckTable(
    Check("model_update_available", "Whether the registry serves a newer version of each Ollama model, and the Hugging "
          "Face Hub a newer commit of each pinned repo, than the one on the host.",
          subject=("model",), fix="read the changelog before switching; pull the new version beside the current one "
                                  "(model_pin keeps the previous for a rollback), never over it"),
    Check("model_update_audit", "Whether the local models could be listed: unknown when neither Ollama's API nor its "
          "store, or the model manifest, could be read; an ok note when no source is set.",
          fix="start Ollama, or make its store and the model manifest readable to the module (become: true)"),
)

_PULL = {"ollama": "ollama pull %s", "huggingface": "huggingface-cli download %s --revision <commit>"}


def model_check(model):
    """The ``model_update_available`` result of one comparison (``collect.compare_*``)."""
    row = CHECKS["model_update_available"]
    subject = {"model": model["name"]}
    extra = dict(source=model["source"], registry=model.get("registry"))
    if model.get("error"):
        return row.unknown("%s: %s" % (model["name"], model["error"]["reason"]), subject=subject,
                           fix=model["error"]["fix"], **extra)
    if model.get("update_available"):
        # reported like an image whose tag moved (the images area's image_update): the same words, the same fields
        return newer_upstream(row, model["name"], model.get("remote"), model.get("local"),
                              where="the registry" if model["source"] == "ollama" else "the Hub", in_use_word="local",
                              detail=": %s; then %s" % (model.get("note"), _PULL[model["source"]] % model["name"]),
                              subject=subject, **extra)
    if model.get("update_available") is False:
        return row.result("ok", model.get("remote"), model.get("local"), "%s: %s" % (model["name"], model.get("note")),
                          subject=subject, **extra)
    return row.unknown("%s: not compared: %s" % (model["name"], model.get("note") or "no answer to compare with"),
                       subject=subject, fix="make the Ollama store (ollama_models_dir) readable to the module (become: true)",
                       **extra)


def evaluate(data, params):
    """Every check of the area: one per model compared, and whether the sources could be read."""
    results = [model_check(model) for model in data.get("models") or []]
    audit = CHECKS["model_update_audit"]
    problems = data.get("problems") or []
    if problems:
        results.append(audit.unknown("; ".join(p["reason"] for p in problems), fix="; ".join(p["fix"] for p in problems)))
    elif not data.get("models"):
        ollama = data.get("ollama") or {}
        results.append(audit.result("ok", 0, None, "nothing to compare: %s, and no pinned Hugging Face model" % (
            "Ollama at %s lists no model" % ollama["url"] if ollama.get("url") else "no Ollama endpoint")))
    else:
        models = data["models"]
        results.append(audit.result("ok", len(models), None, "%d model(s) compared with their registry (%d from Ollama, "
                                    "listed from its %s; %d pinned on the Hugging Face Hub)" % (
                                        len(models), len([m for m in models if m["source"] == "ollama"]),
                                        (data.get("ollama") or {}).get("listed_from") or "-",
                                        len([m for m in models if m["source"] == "huggingface"]))))
    return results
