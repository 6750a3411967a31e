# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Superset REST API session (login, CSRF token, the database API) over ``service_proxy``'s requests.

Superset (Flask-AppBuilder) authenticates its REST API either with a JWT in an ``Authorization: Bearer``
header (``POST /api/v1/security/login``) or with the browser's session cookie (the login form, ``POST
/login/``). Through the Kubernetes API server's service proxy only the cookie works: the API server consumes
the caller's ``Authorization`` header (it authenticates the caller to Kubernetes) and never passes it on. So:

* ``login="api"`` (an explicit URL): ``POST /api/v1/security/login`` ``{"provider": "db"}`` -> access token,
  sent as a bearer token;
* ``login="form"`` (the service proxy): ``GET /login/`` (session cookie + the form's ``csrf_token``), then the
  form ``POST /login/`` that Superset's own login page sends; Superset answers 302 to the next page on
  success and back to ``/login/`` on a wrong user name or password.

Either way ``GET /api/v1/security/csrf_token/`` then gives the token every write sends as ``X-CSRFToken``
(Flask-WTF ties it to the session cookie, which is kept here and sent along).

No Superset client library exists on PyPI that speaks this API (``apache-superset`` is the server itself),
so the requests are written here, by the REST API's documented paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.six.moves.urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

PASSWORD_MASK = "X" * 10  # superset.constants.PASSWORD_MASK: what Superset shows for a URI's password
MARKER_KEY = "lakehouse_platform"  # key in the database's "extra" JSON: created by this collection
_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"')


class SupersetError(Exception):
    """Superset answered, but not as asked; str() names the request, the way in and the answer."""


def rison_string(value):
    """A rison string literal (Superset's ``q=`` parameter): quoted, with ``!`` and ``'`` escaped by ``!``."""
    return "'%s'" % to_native(value).replace("!", "!!").replace("'", "!'")


def database_filter(database_name):
    """The rison query of ``GET /api/v1/database/`` for one database by its exact name."""
    return "(columns:!(id,database_name),filters:!((col:database_name,opr:eq,value:%s)),page:0,page_size:100)" % (
        rison_string(database_name))


def masked_uri(uri):
    """The URI with its password replaced by Superset's mask (as Superset shows it)."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    userinfo, hostport = parts.netloc.rsplit("@", 1)
    if ":" not in userinfo:
        return uri
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, "%s:%s@%s" % (user, PASSWORD_MASK, hostport), parts.path, parts.query,
                       parts.fragment))


def uri_without_credentials(uri):
    """The URI with no user:password@ (for messages and comparisons of where it points)."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def uri_with_credentials(uri, username, password):
    """The URI with user (and password, when given) put in, replacing any it had; both URL-quoted."""
    parts = urlsplit(uri)
    hostport = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(username, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, "%s@%s" % (userinfo, hostport), parts.path, parts.query, parts.fragment))


def uri_user(uri):
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return None
    return unquote(parts.netloc.rsplit("@", 1)[0].split(":", 1)[0])


def same_uri(live_masked, wanted):
    """Whether Superset's (masked) URI is the wanted one, the password aside (Superset never shows it)."""
    return live_masked == masked_uri(wanted)


def _cookies_of(set_cookie):
    """name -> value of a Set-Cookie header (one or several, joined by commas, as a dict of headers keeps them)."""
    found = {}
    for match in re.finditer(r"(?:^|,)\s*([A-Za-z0-9_.\-]+)=([^;,]*)", set_cookie or ""):
        found[match.group(1)] = match.group(2)
    return found


class SupersetSession(object):
    """Requests to one Superset with its login state: cookies, bearer token, CSRF token.

    send(method, path, query, body, headers) -> service_proxy.ServiceResponse, raising service_proxy.Unreachable;
    via says how Superset is reached (for messages).
    """

    def __init__(self, send, via, base_url=""):
        self._send = send
        self.via = via
        self.base_url = base_url
        self.cookies = {}
        self.token = None
        self.csrf = None
        self.requests = []  # "<METHOD> <path> -> <status>", in order: what was asked, for the record
        self.pending = ""  # the request being sent ("<METHOD> <path>")

    # -- plumbing -----------------------------------------------------------------------------------------
    def request(self, method, path, query=None, body=None, form=None, expect=(200,), what=None):
        """One request -> ServiceResponse; an answer with a status not in expect raises SupersetError."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urlencode(form).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % item for item in sorted(self.cookies.items()))
        if self.token:
            headers["Authorization"] = "Bearer %s" % self.token
        if self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRFToken"] = self.csrf
        if self.base_url:  # Flask-WTF checks the Referer of HTTPS requests against the host
            headers["Referer"] = self.base_url.rstrip("/") + "/"
        self.pending = "%s %s" % (method, path)
        answer = self._send(method, path, query, data, headers)
        self.cookies.update(_cookies_of(answer.headers.get("set-cookie")))
        self.requests.append("%s %s -> %d" % (method, path, answer.status))
        if answer.status not in expect:
            raise SupersetError("%s: %s %s via %s answered HTTP %d: %s" % (
                what or "unexpected answer", method, path, self.via, answer.status,
                answer.excerpt() or "(empty body)"))
        return answer

    # -- login --------------------------------------------------------------------------------------------
    def login(self, username, password, mode):
        """Log in (mode "api": JWT; "form": session cookie), then fetch the CSRF token."""
        refused = "Superset login as %s refused" % username
        if mode == "api":
            answer = self.request("POST", "/api/v1/security/login",
                                  body={"username": username, "password": password, "provider": "db",
                                        "refresh": False}, what=refused)
            self.token = (answer.json or {}).get("access_token")
            if not self.token:
                raise SupersetError("%s: POST /api/v1/security/login via %s answered HTTP %d without access_token: %s"
                                    % (refused, self.via, answer.status, answer.excerpt()))
        else:
            page = self.request("GET", "/login/", expect=(200,), what="Superset login page")
            match = _CSRF_INPUT.search(page.content)
            if not match:
                raise SupersetError("Superset login page: GET /login/ via %s answered HTTP 200 without a csrf_token "
                                    "field: %s" % (self.via, page.excerpt()))
            answer = self.request("POST", "/login/", form={"csrf_token": match.group(1) or match.group(2),
                                                           "username": username, "password": password},
                                  expect=(200, 302, 303), what=refused)
            location = answer.headers.get("location", "")
            if answer.status == 200 or "/login" in urlsplit(location).path:
                raise SupersetError("%s: POST /login/ via %s answered HTTP %d%s (Superset sends a wrong user name "
                                    "or password back to its login page)" % (
                                        refused, self.via, answer.status,
                                        " to %s" % location if location else ": " + answer.excerpt()))
        answer = self.request("GET", "/api/v1/security/csrf_token/", what="Superset CSRF token after login as %s"
                              % username)
        self.csrf = (answer.json or {}).get("result")
        if not self.csrf:
            raise SupersetError("Superset CSRF token: GET /api/v1/security/csrf_token/ via %s answered HTTP %d "
                                "without result: %s" % (self.via, answer.status, answer.excerpt()))

    # -- databases ----------------------------------------------------------------------------------------
    def find_database(self, database_name):
        """(id, connection dict) of the database with exactly this name, or (None, None)."""
        answer = self.request("GET", "/api/v1/database/", query={"q": database_filter(database_name)},
                              what="Superset database list")
        rows = [row for row in (answer.json or {}).get("result") or [] if row.get("database_name") == database_name]
        if not rows:
            return None, None
        database_id = rows[0]["id"]
        path = "/api/v1/database/%d/connection" % database_id
        connection = self.request("GET", path, what="Superset database %s" % database_name)
        return database_id, (connection.json or {}).get("result") or {}

    def create_database(self, payload):
        answer = self.request("POST", "/api/v1/database/", body=payload, expect=(201,),
                              what="Superset did not create database %s" % payload.get("database_name"))
        return (answer.json or {}).get("id")

    def update_database(self, database_id, payload):
        self.request("PUT", "/api/v1/database/%d" % database_id, body=payload,
                     what="Superset did not update database %s" % payload.get("database_name"))

    def delete_database(self, database_id, database_name):
        self.request("DELETE", "/api/v1/database/%d" % database_id,
                     what="Superset did not delete database %s" % database_name)


def created_here(connection):
    """Whether the database's "extra" carries this collection's marker (it created the connection)."""
    try:
        extra = json.loads((connection or {}).get("extra") or "{}")
    except ValueError:
        return False
    return isinstance(extra, dict) and isinstance(extra.get(MARKER_KEY), dict) and bool(
        extra[MARKER_KEY].get("created_by"))


def marker_extra(component):
    return json.dumps({MARKER_KEY: {"created_by": "lakehouse.platform.superset_database", "component": component}},
                      sort_keys=True)
