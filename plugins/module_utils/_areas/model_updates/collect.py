# -*- coding: utf-8 -*-
# Copyright: gpufleet.maintenance contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what the model-update check compares: the local Ollama models (``/api/tags``, and the manifests
in Ollama's store for their layers), the registry's manifests, the pinned Hugging Face revisions (the
model manifest's cache files, ``hf_models``) and the Hub's model info.

I/O only (HTTP through ``_tools/llm_http.py``, files); parsing and comparison in ``parse.py``, verdicts in
``checks.py``. A registry that cannot be reached is asked once: the other models of that registry are
not compared, with the same reason. No Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported
    quote = None

from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.model_updates import parse
from ansible_collections.gpufleet.maintenance.plugins.module_utils._areas.models.parse import ollama_manifest_name
from ansible_collections.gpufleet.maintenance.plugins.module_utils._tools.llm_http import Endpoint, ProbeError

_UNREACHABLE = ("refused", "connect", "timeout", "cut")
READABLE_FIX = "make it readable to the module (become: true)"


def _problem(reason, fix):
    return {"reason": reason, "fix": fix}


def read_store(models_dir):
    """``({key: {name, digest, content}}, reason)`` of the manifests in Ollama's store (``<dir>/manifests``).

    The digest is the sha256 of each manifest file, as Ollama computes it for ``/api/tags``. ``reason``
    says why the store could not be read (None when it was)."""
    if not models_dir:
        return {}, "no store directory given"
    root = os.path.join(models_dir, "manifests")
    if not os.path.isdir(root):
        return {}, "no Ollama store at %s" % models_dir
    found, unread = {}, []
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            path = os.path.join(directory, name)
            try:
                host, model, tag = ollama_manifest_name(path)
                with open(path, "rb") as handle:
                    data = handle.read()
                namespace, _sep, model = model.rpartition("/")
                ref = {"host": host, "namespace": namespace or "library", "model": model, "tag": tag}
                content = parse.manifest_content(data)
            except (IOError, OSError) as exc:
                unread.append("%s: %s" % (path, exc.strerror or exc))
                continue
            except ValueError:
                continue   # not a manifest (a stray file): nothing Ollama would list either
            found[parse.ollama_key(ref)] = {"name": parse.ollama_short_name(ref), "ref": ref,
                                            "digest": parse.sha256_hex(data), "content": content}
    if unread and not found:
        return {}, "the manifests in %s cannot be read (%s)" % (root, "; ".join(unread[:3]))
    return found, None


def local_ollama(params, timeout):
    """``(models, info, problem)``: the local Ollama models with their digest and, from the store, content.

    The list comes from ``/api/tags`` (what the server runs); when the API does not answer, from the
    store. ``problem`` is set when neither could be read."""
    url, store_dir = params.get("ollama_url"), params.get("ollama_models_dir")
    info = {"url": url or None, "models_dir": store_dir, "listed_from": None, "api_error": None, "store_error": None}
    store, info["store_error"] = read_store(store_dir)
    listed = None
    if url:
        try:
            _status, _headers, text = Endpoint(url).request("GET", "/api/tags", timeout=timeout)
            listed = parse.parse_tags(text)
        except (ProbeError, parse.ParseError, ValueError) as exc:
            info["api_error"] = "%s/api/tags: %s" % (url.rstrip("/"), exc)
    models = []
    if listed is not None:
        info["listed_from"] = "api"
        for item in listed:
            try:
                ref = parse.parse_ollama_name(item["name"])
            except parse.ParseError:
                continue
            stored = store.get(parse.ollama_key(ref)) or {}
            # The store's content counts only when it is the manifest the server lists (same digest):
            # a store that is not the server's (OLLAMA_MODELS elsewhere) says nothing about it.
            content = stored.get("content") if stored.get("digest") == item["digest"] else None
            models.append({"name": parse.ollama_short_name(ref), "ref": ref, "digest": item["digest"], "content": content})
    elif store:
        info["listed_from"] = "store"
        models = [dict(store[key]) for key in sorted(store)]
    problem = None
    if url and listed is None and not store:
        problem = _problem("the local Ollama models could not be listed: %s; %s" % (info["api_error"], info["store_error"]),
                           "start Ollama (systemctl start ollama), or give ollama_models_dir (its OLLAMA_MODELS) and %s"
                           % READABLE_FIX)
    return models, info, problem


def _reach_problem(exc, base, what):
    """The reason and fix for a registry answer that is no answer to compare with."""
    if exc.kind == "http" and exc.status == 404:
        return _problem("%s has no %s (a model created locally, or one removed upstream)" % (base, what),
                        "nothing to compare with: leave it out with exclude")
    if exc.kind == "http" and exc.status in (401, 403):
        return _problem("%s asks for credentials for %s (%s)" % (base, what, exc),
                        "a private or gated model: give a token (hf_token_file) or leave it out with exclude")
    if exc.kind in _UNREACHABLE:
        return _problem("cannot reach %s: %s" % (base, exc),
                        "check that the host reaches %s (DNS, proxy, firewall); the check runs again next week" % base)
    return _problem("%s did not answer for %s: %s" % (base, what, exc), "check the registry's status and retry")


def ask(base, path, timeout, unreachable, headers=None, what=""):
    """``(status, headers, body bytes)`` of a GET, or raise ``_Unanswered`` with the problem; a base that
    could not be reached once is not asked again (``unreachable``: ``{base: problem}``)."""
    if base in unreachable:
        raise _Unanswered(unreachable[base])
    try:
        return Endpoint(base, headers=headers).request("GET", path, timeout=timeout, raw=True)
    except ProbeError as exc:
        problem = _reach_problem(exc, base, what)
        if exc.kind in _UNREACHABLE:
            unreachable[base] = problem
        raise _Unanswered(problem)
    except ValueError as exc:   # not an http(s) URL
        raise _Unanswered(_problem("%s: %s" % (base, exc), "give the registry as an http:// or https:// URL"))


class _Unanswered(Exception):
    def __init__(self, problem):
        Exception.__init__(self, problem["reason"])
        self.problem = problem


def _comparison(name, source, base, local, **extra):
    """One model's comparison, not made yet."""
    result = {"name": name, "source": source, "registry": base, "local": local, "remote": None,
              "remote_header_digest": None, "update_available": None, "note": None, "changed": [], "error": None}
    result.update(extra)
    return result


def _fetch(result, path, timeout, unreachable, read, headers=None, what_it_is=""):
    """``(answer headers, read(body))`` of ``GET <registry><path>``, or None with ``result["error"]`` saying why."""
    base = result["registry"]
    try:
        _status, answer_headers, body = ask(base, path, timeout, unreachable, headers=headers, what=result["name"])
        return answer_headers, read(body)
    except _Unanswered as exc:
        result["error"] = exc.problem
    except parse.ParseError as exc:
        result["error"] = _problem("%s answered for %s with what cannot be read: %s" % (base, result["name"], exc),
                                   "check that %s is %s" % (base, what_it_is))
    return None


def compare_ollama_model(model, params, timeout, unreachable):
    """The comparison of one local Ollama model with its registry."""
    ref = model["ref"]
    result = _comparison(model["name"], "ollama", parse.registry_base(ref, params.get("ollama_registry") or "https://registry.ollama.ai"),
                         "sha256:%s" % model["digest"] if model.get("digest") else None)
    answer = _fetch(result, parse.manifest_path(ref), timeout, unreachable,
                    lambda body: (parse.sha256_hex(body), parse.manifest_content(body)),
                    headers={"Accept": parse.MANIFEST_ACCEPT}, what_it_is="an Ollama registry (ollama_registry)")
    if answer is None:
        return result
    headers, (remote, content) = answer
    result["remote"] = "sha256:%s" % remote
    header = parse.normal_digest(headers.get("docker-content-digest") or headers.get("ollama-content-digest"))
    result["remote_header_digest"] = "sha256:%s" % header if header else None
    result["update_available"], result["note"] = parse.compare_ollama(model.get("digest"), model.get("content"), remote, content)
    return result


def read_model_manifest(path):
    """``(files, problem)``: the ``files`` of a model manifest written by ``model_manifest`` mode=scan."""
    if not path:
        return [], None
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        return [], _problem("the model manifest %s cannot be read: %s" % (path, exc.strerror or exc),
                            "write it with model_manifest mode=scan, or %s" % READABLE_FIX)
    except ValueError as exc:
        return [], _problem("the model manifest %s is not JSON: %s" % (path, exc), "write it again with model_manifest mode=scan")
    files = data.get("files") if isinstance(data, dict) else None
    return (files if isinstance(files, list) else []), None


def read_token(path):
    """``(token, problem)`` from a token file (the first line; ``huggingface-cli login`` writes one)."""
    if not path:
        return None, None
    try:
        with open(path) as handle:
            token = handle.readline().strip()
    except (IOError, OSError) as exc:
        return None, _problem("the Hub token file %s cannot be read: %s" % (path, exc.strerror or exc), READABLE_FIX)
    if not token:
        return None, _problem("the Hub token file %s is empty" % path, "write the token to it (huggingface-cli login)")
    return token, None


def compare_hf_pin(pin, params, timeout, unreachable):
    """The comparison of one pinned Hugging Face revision with its branch on the Hub."""
    result = _comparison(pin["repo"], "huggingface", (params.get("hf_endpoint") or "https://huggingface.co").rstrip("/"),
                         pin["revision"], branch=pin["branch"], files=sorted(pin["files"]))
    headers = {"Authorization": "Bearer %s" % params["_hf_token"]} if params.get("_hf_token") else None
    answer = _fetch(result, "/api/models/%s/revision/%s?blobs=true" % (pin["repo"], quote(pin["branch"], safe="")),
                    timeout, unreachable, lambda body: parse.hub_info(body.decode("utf-8", "replace")),
                    headers=headers, what_it_is="the Hugging Face Hub (hf_endpoint)")
    if answer is None:
        return result
    info = answer[1]
    result["remote"] = info["sha"]
    result["update_available"], result["note"], result["changed"] = parse.compare_hf(pin, info)
    return result


def collect(run_command, params):
    """``(data, warnings)``: every local model compared with its registry; never raises for host faults.

    ``data``: ``ollama`` (where the list came from and why a source could not be read), ``huggingface``
    (the pins' sources), ``models`` (one comparison each) and ``problems`` (sources that could not be read,
    each ``{reason, fix}``)."""
    timeout = float(params.get("timeout") or 20)
    excluded = set()
    for name in params.get("exclude") or []:
        try:
            excluded.add(parse.ollama_key(parse.parse_ollama_name(name)))
        except parse.ParseError:
            excluded.add(name)
    problems, unreachable, compared = [], {}, []
    models, ollama, problem = local_ollama(params, timeout)
    if ollama["url"] or ollama["listed_from"]:
        if problem:
            problems.append(problem)
        for model in models:
            if parse.ollama_key(model["ref"]) not in excluded:
                compared.append(compare_ollama_model(model, params, timeout, unreachable))
    files, problem = read_model_manifest(params.get("model_manifest"))
    if problem:
        problems.append(problem)
    token, problem = read_token(params.get("hf_token_file"))
    if problem:
        problems.append(problem)
    params = dict(params, _hf_token=token)
    pins = [pin for pin in parse.hf_pins(files, params.get("hf_models")) if pin["repo"] not in excluded]
    for pin in pins:
        compared.append(compare_hf_pin(pin, params, timeout, unreachable))
    data = {"ollama": ollama,
            "huggingface": {"model_manifest": params.get("model_manifest"), "pins": len(pins),
                            "endpoint": params.get("hf_endpoint")},
            "models": compared, "problems": problems,
            "excluded": sorted(params.get("exclude") or [])}
    return data, []
