"""A stand-in for the AWX REST API (``/api/v2/``) that answers as AWX's API documentation says, for
the awx.awx modules of playbooks/awx_configure.yml, recording every request.

What it implements, after the AWX API reference (24.x) and the awx.awx modules' use of it:

- ``GET /api/v2/ping/`` (no authentication: ``ha``, ``version``, ``active_node``, ``install_uuid``,
  ``instances``, ``instance_groups``) and ``GET /api/v2/me/`` (a list with the token's user);
- list endpoints ``organizations``, ``credential_types``, ``credentials``, ``execution_environments``,
  ``projects``, ``project_updates``, ``inventories``, ``inventory_sources``, ``notification_templates``,
  ``job_templates``, ``schedules``, ``labels``, ``instance_groups`` and the read-only
  ``unified_job_templates``: paginated ``{count, next, previous, results}``, filtered by exact field
  values in the query string (``name=``, ``organization=``, ``or__id=``/``or__name=`` as the modules send
  them); ``POST`` creates (201, the object with ``id``, ``type``, ``url``, ``related``,
  ``summary_fields``); ``GET``/``PATCH``/``DELETE`` on ``<endpoint>/<id>/``;
- association sub-endpoints (``job_templates/<id>/credentials/``, ``notification_templates_error/``, ...):
  ``GET`` lists, ``POST {"id": n}`` associates and ``{"id": n, "disassociate": true}`` removes (204);
  ``job_templates/<id>/survey_spec/`` (``GET``/``POST``/``DELETE``);
- secret inputs of credentials (``password``, ``ssh_key_data``, ``ssh_key_unlock``, ``become_password``)
  and notification configurations (``password``, ``token``) are stored but answered as ``$encrypted$``;
- every authenticated endpoint wants ``Authorization: Bearer <token>`` (401 otherwise); answers carry
  ``X-API-Product-Name: AWX`` and ``X-API-Product-Version``.

It is not AWX: no RBAC, no validation of most field values, no jobs run (see docs/fleet.md).
"""

import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "24.6.1"
ENDPOINTS = {
    "organizations": "organization", "credential_types": "credential_type", "credentials": "credential",
    "execution_environments": "execution_environment", "projects": "project", "project_updates": "project_update",
    "inventories": "inventory", "inventory_sources": "inventory_source", "notification_templates": "notification_template",
    "job_templates": "job_template", "schedules": "schedule", "labels": "label", "instance_groups": "instance_group",
}
UNIFIED = ("job_templates", "projects", "inventory_sources")
ASSOCIATIONS = {
    "job_templates": ("credentials", "labels", "instance_groups", "notification_templates_started",
                      "notification_templates_success", "notification_templates_error"),
    "inventory_sources": ("notification_templates_started", "notification_templates_success", "notification_templates_error"),
    "projects": ("notification_templates_started", "notification_templates_success", "notification_templates_error"),
    "schedules": ("credentials", "labels", "instance_groups"),
}
SECRET_INPUTS = ("password", "ssh_key_data", "ssh_key_unlock", "become_password", "token")
ENCRYPTED = "$encrypted$"


class Api:
    """The stored objects and the recorded requests; thread-safe."""

    def __init__(self, token):
        self.token = token
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.objects = dict((endpoint, {}) for endpoint in ENDPOINTS)
        self.links = {}          # (endpoint, id, association) -> [ids]
        self.surveys = {}        # job template id -> spec
        self.requests = []
        self._seed("organizations", {"name": "Default", "description": ""})
        self._seed("credential_types", {"name": "Machine", "kind": "ssh", "namespace": "ssh", "managed": True})

    def _seed(self, endpoint, fields):
        if fields is not None:
            self.create(endpoint, fields)

    # -------------------------------------------------------------- objects
    def create(self, endpoint, fields):
        oid = next(self.ids)
        obj = dict(fields, id=oid, type=ENDPOINTS[endpoint], url="/api/v2/%s/%d/" % (endpoint, oid),
                   created="2026-11-27T10:00:00.000000Z", modified="2026-11-27T10:00:00.000000Z")
        related = {}
        for association in ASSOCIATIONS.get(endpoint, ()):
            related[association] = "%s%s/" % (obj["url"], association)
        if endpoint == "job_templates":
            related["survey_spec"] = obj["url"] + "survey_spec/"
            obj.setdefault("survey_enabled", False)
        summary = {}
        if endpoint == "projects":
            obj.setdefault("scm_revision", "")
            update = self.create("project_updates", {"name": obj.get("name"), "project": oid, "status": "successful",
                                                     "failed": False, "finished": "2026-11-27T10:00:05.000000Z",
                                                     "scm_revision": "0123456789abcdef0123456789abcdef01234567"})
            related["update"] = obj["url"] + "update/"
            summary["current_update"] = {"id": update["id"], "status": "successful", "failed": False}
        obj["related"] = related
        obj["summary_fields"] = summary
        self.objects[endpoint][oid] = obj
        return obj

    def public(self, obj):
        """An object as AWX shows it: secret inputs masked."""
        shown = json.loads(json.dumps(obj))
        for key in ("inputs", "notification_configuration"):
            for field in SECRET_INPUTS:
                if shown.get(key, {}).get(field):
                    shown[key][field] = ENCRYPTED
        return shown

    def find(self, endpoint, query):
        if endpoint == "unified_job_templates":
            pool = [o for e in UNIFIED for o in self.objects[e].values()]
        else:
            pool = list(self.objects[endpoint].values())
        ors = dict((k[4:], v) for k, v in query.items() if k.startswith("or__"))
        plain = dict((k, v) for k, v in query.items() if not k.startswith("or__") and k not in ("page", "page_size"))
        found = []
        for obj in sorted(pool, key=lambda o: o["id"]):
            if any(str(obj.get(k)) != v for k, v in plain.items()):
                continue
            if ors and not any(str(obj.get(k)) == v for k, v in ors.items()):
                continue
            found.append(obj)
        return found


def page(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api = None  # set per server

    def log_message(self, *args):
        pass

    def _answer(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-API-Product-Name", "AWX")
        self.send_header("X-API-Product-Version", VERSION)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        auth = self.headers.get("Authorization")
        api = self.api
        with api.lock:
            api.requests.append({"method": method, "path": parsed.path, "query": query, "body": body,
                                 "authorization": auth})
            status, answer = self._route(method, parsed.path, query, body, auth)
        self._answer(status, answer)

    def _route(self, method, path, query, body, auth):
        api = self.api
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            return 404, {"detail": "Not found."}
        parts = parts[2:]
        if parts == ["ping"] and method == "GET":
            return 200, {"ha": False, "version": VERSION, "active_node": "awx-standin", "install_uuid": "00000000-0000-0000-0000-000000000000",
                         "instances": [{"node": "awx-standin", "node_type": "hybrid", "uuid": "00000000-0000-0000-0000-000000000001",
                                        "heartbeat": "2026-11-27T10:00:00.000000Z", "capacity": 57, "version": VERSION}],
                         "instance_groups": [{"name": "default", "capacity": 57, "instances": ["awx-standin"]}]}
        if auth != "Bearer %s" % api.token:
            return 401, {"detail": "Authentication credentials were not provided."}
        if parts == ["me"] and method == "GET":
            return 200, page([{"id": 1, "type": "user", "url": "/api/v2/users/1/", "username": "gpufleet-automation",
                               "is_superuser": True, "is_system_auditor": False}])
        if not parts or (parts[0] not in ENDPOINTS and parts[0] != "unified_job_templates"):
            return 404, {"detail": "Not found."}
        endpoint = parts[0]
        if len(parts) == 1:
            if method == "GET":
                return 200, page([api.public(o) for o in api.find(endpoint, query)])
            if method == "POST" and endpoint in ENDPOINTS and endpoint not in ("project_updates",):
                fields = dict(body or {})
                if not fields.get("name"):
                    return 400, {"name": ["This field is required."]}
                if api.find(endpoint, dict((k, str(fields[k])) for k in ("name", "organization") if k in fields)):
                    return 400, {"__all__": ["%s with this Name and Organization already exists." % ENDPOINTS[endpoint]]}
                return 201, api.public(api.create(endpoint, fields))
            return 405, {"detail": 'Method "%s" not allowed.' % method}
        try:
            oid = int(parts[1])
        except ValueError:
            return 404, {"detail": "Not found."}
        obj = api.objects.get(endpoint, {}).get(oid)
        if obj is None:
            return 404, {"detail": "Not found."}
        if len(parts) == 2:
            if method == "GET":
                return 200, api.public(obj)
            if method == "PATCH":
                for key, value in (body or {}).items():
                    if isinstance(value, dict) and key in ("inputs", "notification_configuration"):
                        merged = dict(obj.get(key) or {})
                        merged.update(dict((k, v) for k, v in value.items() if v != ENCRYPTED))
                        obj[key] = merged
                    else:
                        obj[key] = value
                obj["modified"] = "2026-11-27T10:00:01.000000Z"
                return 200, api.public(obj)
            if method == "DELETE":
                del api.objects[endpoint][oid]
                return 204, None
            return 405, {"detail": 'Method "%s" not allowed.' % method}
        sub = parts[2]
        if endpoint == "job_templates" and sub == "survey_spec":
            if method == "GET":
                return 200, api.surveys.get(oid, {})
            if method == "POST":
                api.surveys[oid] = body
                return 200, None
            if method == "DELETE":
                api.surveys.pop(oid, None)
                return 200, None
        if sub in ASSOCIATIONS.get(endpoint, ()):
            key = (endpoint, oid, sub)
            linked = api.links.setdefault(key, [])
            target = "credentials" if sub == "credentials" else ("labels" if sub == "labels" else (
                "instance_groups" if sub == "instance_groups" else "notification_templates"))
            if method == "GET":
                return 200, page([api.public(api.objects[target][i]) for i in linked if i in api.objects[target]])
            if method == "POST":
                other = int((body or {}).get("id", 0))
                if other not in api.objects[target]:
                    return 400, {"msg": "Object with id %s not found." % other}
                if (body or {}).get("disassociate"):
                    if other in linked:
                        linked.remove(other)
                elif other not in linked:
                    linked.append(other)
                return 204, None
        return 404, {"detail": "Not found."}

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")


class AwxStandin:
    """``with AwxStandin(token) as awx:`` - serves on 127.0.0.1 in a thread; ``awx.url``, ``awx.api``."""

    def __init__(self, token):
        self.api = Api(token)
        handler = type("BoundHandler", (Handler,), {"api": self.api})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def requests(self, method=None, path_prefix=""):
        with self.api.lock:
            return [r for r in self.api.requests if (method is None or r["method"] == method)
                    and r["path"].startswith("/api/v2/" + path_prefix)]

    def one(self, endpoint, name):
        found = [o for o in self.api.objects[endpoint].values() if o.get("name") == name]
        assert len(found) == 1, "expected one %s named %r, found %d" % (endpoint, name, len(found))
        return found[0]
