# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the Ceph RGW Admin Ops API (``/admin/user``: users, keys, caps, quota).

Hand-written because no amazon.aws (or other maintained) module drives the RGW Admin Ops API; the
S3 side (buckets, lifecycle, objects) stays with amazon.aws. What is not hand-written is the part that
is easy to get wrong: requests are signed with botocore's SigV4 signer (service ``s3``, payload
``UNSIGNED-PAYLOAD``), and sent with ansible's ``open_url`` (TLS verification on by default).

Two details matter for the signature to match what RGW computes:

* the query string is built with ``urlencode(..., quote_via=quote)``: RGW decodes ``+`` as a literal
  plus, so a space encoded as ``+`` (urlencode's default) breaks the signature of any value with a
  space (display names);
* sub-resources such as ``?quota`` are sent as ``quota=`` (empty value), which is how SigV4
  canonicalises them anyway.

Errors come out as exceptions whose message is meant for a playbook user: RGWConnectionError (the
endpoint cannot be reached; names the endpoint), RGWAuthError (403: wrong access key, wrong secret key,
or missing admin caps; says which), RGWAdminError (anything else, with RGW's error code). "No such
user" is not an error: ``get_user`` returns None.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import socket
import traceback

from ansible.module_utils.common.text.converters import to_native, to_text
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    HAS_BOTOCORE = True
    BOTOCORE_IMPORT_ERROR = None
except ImportError:
    HAS_BOTOCORE = False
    BOTOCORE_IMPORT_ERROR = traceback.format_exc()

# RGW accepts any region name in the credential scope of an admin request; us-east-1 is what the
# AWS SDKs use when none is configured.
DEFAULT_REGION = "us-east-1"
DEFAULT_TIMEOUT = 30
ADMIN_PATH = "/admin"
USER_AGENT = "lakehouse.platform-rgw-admin"

# Capability types RGW knows (the same names the Rook CephObjectStoreUser CRD accepts).
CAP_TYPES = (
    "amz-cache", "bilog", "bucket", "buckets", "datalog", "info", "mdlog", "metadata", "oidc-provider",
    "ratelimit", "roles", "usage", "user", "user-policy", "users", "zone",
)
# A permission is a set of bits; RGW reports read+write as "*".
_PERM_BITS = {"read": {"read"}, "write": {"write"}, "*": {"read", "write"}}

# 403 error codes and what the user should check.
_AUTH_HINTS = {
    "InvalidAccessKeyId": "the admin access key is not known to RGW (check admin_access_key)",
    "SignatureDoesNotMatch": "the request signature does not match (check admin_secret_key)",
    "AccessDenied": "the admin user lacks the capability for this call (it needs users=* or users=read/write caps)",
    "RequestTimeTooSkewed": "the clocks of this host and the RGW host differ too much",
}


class RGWAdminError(Exception):
    """An Admin Ops request failed; status/code are RGW's HTTP status and error code when there was an answer."""

    def __init__(self, msg, status=None, code=None):
        super(RGWAdminError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.code = code


class RGWConnectionError(RGWAdminError):
    """The endpoint could not be reached (DNS, refused, timeout, TLS)."""


class RGWAuthError(RGWAdminError):
    """RGW answered 403: the admin credentials are wrong or lack capabilities."""


# -- capabilities ------------------------------------------------------------------------------------
def normalize_perm(perm):
    """'read', 'write', '*', 'read, write' / 'read,write' / 'write, read' -> canonical 'read', 'write' or '*'.

    Raises ValueError for anything else.
    """
    text = to_text(perm).strip().lower() if perm is not None else ""
    bits = set()
    for part in text.split(","):
        part = part.strip()
        if part not in _PERM_BITS:
            raise ValueError("permission %r is not one of '*', 'read', 'write', 'read, write'" % (perm,))
        bits |= _PERM_BITS[part]
    return _perm_from_bits(bits)


def _perm_from_bits(bits):
    if bits >= {"read", "write"}:
        return "*"
    return next(iter(bits)) if bits else None


def caps_to_dict(caps):
    """RGW's caps list [{"type": "usage", "perm": "read"}] -> {"usage": "read"} (perms canonical)."""
    result = {}
    for cap in caps or []:
        result[cap["type"]] = normalize_perm(cap["perm"])
    return result


def caps_string(caps):
    """{"usage": "read", "buckets": "*"} -> 'buckets=*;usage=read' (the user-caps parameter)."""
    return ";".join("%s=%s" % (cap_type, caps[cap_type]) for cap_type in sorted(caps))


def caps_changes(current, desired):
    """What to add and what to remove to turn caps `current` into `desired` (both canonical dicts).

    RGW adds permission bits on PUT ?caps and removes bits on DELETE ?caps, so a change from read to
    write is "add write" plus "remove read". Returns (to_add, to_remove), each a dict for caps_string().
    """
    to_add, to_remove = {}, {}
    for cap_type in set(current) | set(desired):
        have = _PERM_BITS.get(current.get(cap_type), set())
        want = _PERM_BITS.get(desired.get(cap_type), set())
        if want - have:
            to_add[cap_type] = _perm_from_bits(want - have)
        if have - want:
            to_remove[cap_type] = _perm_from_bits(have - want)
    return to_add, to_remove


# -- signing -------------------------------------------------------------------------------------------
def encode_query(params):
    """Query string for params, sorted, spaces as %20 (never '+'), None values left out."""
    items = sorted((key, "" if value is None else to_text(value)) for key, value in params.items())
    return urlencode(items, quote_via=quote)


def _bool_param(value):
    return "true" if value else "false"


def signed_headers(method, url, access_key, secret_key, region=DEFAULT_REGION):
    """Headers (Authorization, X-Amz-Date, x-amz-content-sha256) that sign a bodyless request to url."""
    request = AWSRequest(method=method, url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(access_key, secret_key), "s3", region).add_auth(request)
    return dict(request.headers.items())


def parse_error(body):
    """(code, message) from an RGW error body (JSON {"Code": ..., "Message": ...}); (None, text) otherwise."""
    text = to_text(body or b"", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return None, text[:300]
    if isinstance(data, dict):
        return data.get("Code"), data.get("Message") or ""
    return None, text[:300]


class RGWAdmin(object):
    """Signed calls to the Admin Ops API of one RGW endpoint with one admin key pair."""

    def __init__(self, endpoint, access_key, secret_key, validate_certs=True, ca_path=None,
                 timeout=DEFAULT_TIMEOUT, region=DEFAULT_REGION, opener=None):
        parts = urlsplit(endpoint or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("endpoint %r is not an http:// or https:// URL" % (endpoint,))
        self.endpoint = endpoint.rstrip("/")
        self._access_key = access_key
        self._secret_key = secret_key
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.region = region
        self._open = opener or open_url
        # Every request made, as (method, resource, params without values of secrets): lets callers
        # and tests see that check mode sent no write.
        self.requests = []

    # -- transport ---------------------------------------------------------------------------------
    def request(self, method, resource, params=None):
        """Send one signed request; returns the decoded JSON answer (None for an empty body).

        resource is the path under /admin (``user``, ``metadata/user``). Raises the errors above.
        """
        query = encode_query(params or {})
        url = "%s%s/%s%s" % (self.endpoint, ADMIN_PATH, resource, "?" + query if query else "")
        self.requests.append((method, resource, dict(params or {})))
        headers = signed_headers(method, url, self._access_key, self._secret_key, self.region)
        what = "%s %s/%s" % (method, ADMIN_PATH, resource)
        try:
            response = self._open(
                url, method=method, headers=headers, timeout=self.timeout, validate_certs=self.validate_certs,
                ca_path=self.ca_path, follow_redirects="none", use_proxy=True, http_agent=USER_AGENT,
                use_netrc=False,  # a ~/.netrc entry would replace the signature with basic auth
            )
            body = response.read()
        except HTTPError as e:
            raise self._http_error(e, what)
        except SSLValidationError as e:
            raise RGWConnectionError(
                "TLS certificate of the RGW endpoint %s could not be verified (set endpoint_ca_cert, or "
                "endpoint_validate_certs=false for a test gateway): %s" % (self.endpoint, to_native(e)))
        except (URLError, UrlsConnectionError, socket.error, socket.timeout) as e:
            reason = getattr(e, "reason", e)
            raise RGWConnectionError("Cannot reach the RGW endpoint %s (%s): %s" % (self.endpoint, what, to_native(reason)))
        if not body or not body.strip():
            return None
        try:
            return json.loads(to_text(body))
        except ValueError:
            raise RGWAdminError("%s at %s answered something that is not JSON (is this an RGW endpoint?): %s"
                                % (what, self.endpoint, to_text(body, errors="replace")[:200]))

    def _http_error(self, error, what):
        try:
            body = error.read()
        except Exception:
            body = b""
        code, message = parse_error(body)
        detail = code or ("HTTP %d" % error.code)
        if message:
            detail += ": %s" % message
        if error.code == 403:
            hint = _AUTH_HINTS.get(code, "the admin credentials were refused")
            return RGWAuthError("RGW at %s refused %s with 403 %s; %s"
                                % (self.endpoint, what, code or "Forbidden", hint), 403, code)
        if code is None and error.code in (404, 405):
            return RGWAdminError("%s at %s answered HTTP %d without an RGW error code (is this an RGW endpoint "
                                 "with the admin API enabled?)" % (what, self.endpoint, error.code), error.code)
        return RGWAdminError("%s at %s failed with HTTP %d %s" % (what, self.endpoint, error.code, detail),
                             error.code, code)

    # -- users -------------------------------------------------------------------------------------
    def get_user(self, uid):
        """The user (RGW's JSON: user_id, display_name, suspended, max_buckets, keys, caps, user_quota), or None."""
        try:
            return self.request("GET", "user", {"uid": uid})
        except RGWAdminError as e:
            if e.status == 404 and e.code == "NoSuchUser":
                return None
            raise

    def create_user(self, uid, display_name, max_buckets=None, suspended=None, generate_key=True):
        params = {"uid": uid, "display-name": display_name, "generate-key": _bool_param(generate_key)}
        if generate_key:
            params["key-type"] = "s3"
        if max_buckets is not None:
            params["max-buckets"] = max_buckets
        if suspended is not None:
            params["suspended"] = _bool_param(suspended)
        return self.request("PUT", "user", params)

    def modify_user(self, uid, display_name=None, max_buckets=None, suspended=None):
        params = {"uid": uid}
        if display_name is not None:
            params["display-name"] = display_name
        if max_buckets is not None:
            params["max-buckets"] = max_buckets
        if suspended is not None:
            params["suspended"] = _bool_param(suspended)
        return self.request("POST", "user", params)

    def delete_user(self, uid, purge_data=False):
        """Delete the user; True if it existed. RGW refuses (409 or 400) while it owns buckets unless purge_data."""
        try:
            self.request("DELETE", "user", {"uid": uid, "purge-data": _bool_param(purge_data)})
        except RGWAdminError as e:
            if e.status == 404 and e.code == "NoSuchUser":
                return False
            raise
        return True

    # -- quota -------------------------------------------------------------------------------------
    def get_user_quota(self, uid):
        return self.request("GET", "user", {"quota": "", "uid": uid, "quota-type": "user"})

    def set_user_quota(self, uid, enabled, max_size, max_objects):
        """Set the user-scope quota; max_size in bytes, -1 = unlimited (likewise max_objects)."""
        return self.request("PUT", "user", {
            "quota": "", "uid": uid, "quota-type": "user", "enabled": _bool_param(enabled),
            "max-size": int(max_size), "max-objects": int(max_objects),
        })

    # -- caps --------------------------------------------------------------------------------------
    def add_caps(self, uid, caps):
        return self.request("PUT", "user", {"caps": "", "uid": uid, "user-caps": caps_string(caps)})

    def remove_caps(self, uid, caps):
        return self.request("DELETE", "user", {"caps": "", "uid": uid, "user-caps": caps_string(caps)})

    # -- keys --------------------------------------------------------------------------------------
    def create_s3_key(self, uid):
        """Generate a new S3 key pair for uid; returns the user's keys after the change."""
        return self.request("PUT", "user", {"key": "", "uid": uid, "key-type": "s3", "generate-key": "true"})


def first_s3_key(user):
    """(access_key, secret_key) of the user's first S3 key, or (None, None)."""
    for key in (user or {}).get("keys") or []:
        if key.get("access_key"):
            return key["access_key"], key.get("secret_key")
    return None, None


def user_view(user):
    """What the module reports and diffs about an RGW user: no keys, caps as a dict, quota in bytes.

    user is RGW's user JSON (user_quota included, as GET /admin/user returns it).
    """
    if user is None:
        return None
    quota = user.get("user_quota") or {}
    return {
        "uid": user.get("user_id"),
        "display_name": user.get("display_name"),
        "caps": caps_to_dict(user.get("caps")),
        "quota": {
            "enabled": bool(quota.get("enabled", False)),
            "max_size": quota.get("max_size", -1),
            "max_objects": quota.get("max_objects", -1),
            "max_buckets": user.get("max_buckets"),
        },
        "suspended": bool(user.get("suspended")),
    }


# -- converging a user: what it should look like, which calls get it there ---------------------------------
def read_user(client, uid):
    """(RGW's user JSON with user_quota, its user_view()) or (None, None) when there is no such user."""
    user = client.get_user(uid)
    if user is None:
        return None, None
    if "user_quota" not in user:  # some releases leave the quota out of the user info
        user["user_quota"] = client.get_user_quota(uid)
    return user, user_view(user)


def desired_user_view(current, uid, display_name=None, caps=None, quota=None, suspended=None):
    """The user_view() after applying the given settings to `current` (None: the user does not exist yet).

    None means "leave as is" for every setting. caps (canonical perms) replaces the caps entirely.
    quota is a dict of max_size (bytes), max_objects, max_buckets and enabled, each None to leave as is;
    giving a size or object limit without `enabled` enables the quota.
    """
    if current is None:
        current = {
            "uid": uid,
            "display_name": uid,
            "caps": {},
            "quota": {"enabled": False, "max_size": -1, "max_objects": -1, "max_buckets": None},
            "suspended": False,
        }
    after = copy.deepcopy(current)
    if display_name is not None:
        after["display_name"] = display_name
    if caps is not None:
        after["caps"] = dict(caps)
    if suspended is not None:
        after["suspended"] = suspended
    if quota is not None:
        for key in ("max_size", "max_objects", "max_buckets"):
            if quota.get(key) is not None:
                after["quota"][key] = quota[key]
        if quota.get("enabled") is not None:
            after["quota"]["enabled"] = quota["enabled"]
        elif quota.get("max_size") is not None or quota.get("max_objects") is not None:
            after["quota"]["enabled"] = True
    return after


def plan_user_changes(current, after):
    """The Admin Ops calls that turn view `current` (None: no user) into view `after`.

    Returns a list of (RGWAdmin method name, kwargs); empty when nothing differs.
    """
    steps = []
    uid = after["uid"]
    if current is None:
        steps.append(("create_user", dict(uid=uid, display_name=after["display_name"],
                                          max_buckets=after["quota"]["max_buckets"],
                                          suspended=after["suspended"] or None)))
        current = {"caps": {}, "quota": {"enabled": False, "max_size": -1, "max_objects": -1}}
    else:
        changes = {}
        if after["display_name"] != current["display_name"]:
            changes["display_name"] = after["display_name"]
        if after["quota"]["max_buckets"] != current["quota"]["max_buckets"]:
            changes["max_buckets"] = after["quota"]["max_buckets"]
        if after["suspended"] != current["suspended"]:
            changes["suspended"] = after["suspended"]
        if changes:
            steps.append(("modify_user", dict(uid=uid, **changes)))
    to_add, to_remove = caps_changes(current["caps"], after["caps"])
    if to_add:
        steps.append(("add_caps", dict(uid=uid, caps=to_add)))
    if to_remove:
        steps.append(("remove_caps", dict(uid=uid, caps=to_remove)))
    quota_keys = ("enabled", "max_size", "max_objects")
    if any(after["quota"][k] != current["quota"][k] for k in quota_keys):
        steps.append(("set_user_quota", dict(uid=uid, **dict((k, after["quota"][k]) for k in quota_keys))))
    return steps


def apply_user_changes(client, uid, steps):
    """Run the planned calls in order. If the user was created by these steps and a later one fails, delete
    it again, so a failed run leaves no half-made user; the raised error says so."""
    created = False
    try:
        for method, kwargs in steps:
            getattr(client, method)(**kwargs)
            created = created or method == "create_user"
    except RGWAdminError as error:
        if created:
            try:
                client.delete_user(uid, purge_data=True)
                error.msg += " (the user %s created by this run was deleted again)" % uid
            except RGWAdminError as cleanup_error:
                error.msg += " (and the half-created user %s could not be deleted: %s)" % (uid, cleanup_error.msg)
            error.args = (error.msg,)
        raise
