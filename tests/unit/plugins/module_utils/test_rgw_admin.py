# -*- coding: utf-8 -*-
# Copyright: (c) 2026, lakehouse.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rgw_admin: query encoding and SigV4 signing, caps arithmetic, error mapping (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import io
import json
import socket
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from ansible.module_utils.urls import SSLValidationError
from ansible_collections.lakehouse.platform.plugins.module_utils import rgw_admin
from ansible_collections.lakehouse.platform.plugins.module_utils.rgw_admin import (
    RGWAdmin,
    RGWAdminError,
    RGWAuthError,
    RGWConnectionError,
    caps_changes,
    caps_string,
    caps_to_dict,
    encode_query,
    first_s3_key,
    normalize_perm,
    parse_error,
    signed_headers,
    user_view,
)

ENDPOINT = "http://127.0.0.1:7480"


# -- query encoding and signing ------------------------------------------------------------------------
def aws_canonical_query(params):
    """The canonical query string as AWS SigV4 defines it (what RGW recomputes from the decoded query)."""
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in params.items())
    return "&".join("%s=%s" % pair for pair in encoded)


def test_query_encodes_space_as_percent_20_never_plus():
    query = encode_query({"uid": "x", "display-name": "Iceberg warehouse"})
    assert query == "display-name=Iceberg%20warehouse&uid=x"
    assert "+" not in query


def test_query_encodes_reserved_characters_and_utf8_like_sigv4():
    params = {"display-name": u"Ice / berg+1 ~ é & = ?", "uid": "tenant$user", "quota": ""}
    query = encode_query(params)
    assert query == aws_canonical_query(params)
    assert dict(parse_qsl(query, keep_blank_values=True)) == params


def test_query_leaves_out_nothing_and_keeps_empty_subresources():
    assert encode_query({"quota": "", "uid": "u", "quota-type": "user"}) == "quota=&quota-type=user&uid=u"
    assert encode_query({}) == ""


def test_default_urlencode_would_break_the_signature():
    # The reason for quote_via=quote: urlencode's default writes '+', which the canonical form spells %20.
    params = {"display-name": "a b"}
    assert urlencode(params) != aws_canonical_query(params)
    assert encode_query(params) == aws_canonical_query(params)


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def independent_sigv4(method, url, amz_date, access_key, secret_key, region="us-east-1"):
    """SigV4 for a bodyless S3 request, written from the AWS spec, to check botocore's use here."""
    parts = urlsplit(url)
    date = amz_date[:8]
    canonical_headers = "host:%s\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:%s\n" % (parts.netloc, amz_date)
    signed = "host;x-amz-content-sha256;x-amz-date"
    canonical_request = "\n".join([method, quote(parts.path, safe="/~"), parts.query, canonical_headers, signed,
                                   "UNSIGNED-PAYLOAD"])
    scope = "%s/%s/s3/aws4_request" % (date, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode("utf-8"), date), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (access_key, scope, signed, signature)


def test_signature_matches_an_independent_sigv4_computation():
    url = "%s/admin/user?%s" % (ENDPOINT, encode_query({"uid": "iceberg", "display-name": "Ice berg/1", "quota": ""}))
    headers = signed_headers("PUT", url, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    expected = independent_sigv4("PUT", url, headers["X-Amz-Date"], "AKIDEXAMPLE",
                                 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    assert headers["Authorization"] == expected


def test_signature_depends_on_the_secret():
    url = ENDPOINT + "/admin/user?uid=x"
    one = signed_headers("GET", url, "AK", "secret-one")["Authorization"]
    two = signed_headers("GET", url, "AK", "secret-two")["Authorization"]
    assert one.split("Signature=")[1] != two.split("Signature=")[1]


# -- capabilities -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("perm,expected", [
    ("*", "*"), ("read", "read"), ("write", "write"), ("read, write", "*"), ("read,write", "*"),
    ("write, read", "*"), (" READ ", "read"),
])
def test_normalize_perm(perm, expected):
    assert normalize_perm(perm) == expected


@pytest.mark.parametrize("perm", ["", "all", "read;write", None, "read, delete"])
def test_normalize_perm_refuses_unknown_permissions(perm):
    with pytest.raises(ValueError, match="permission"):
        normalize_perm(perm)


def test_caps_to_dict_and_string():
    caps = caps_to_dict([{"type": "usage", "perm": "read"}, {"type": "buckets", "perm": "*"}])
    assert caps == {"usage": "read", "buckets": "*"}
    assert caps_string(caps) == "buckets=*;usage=read"


@pytest.mark.parametrize("current,desired,to_add,to_remove", [
    ({}, {"usage": "read"}, {"usage": "read"}, {}),
    ({"usage": "read"}, {"usage": "read"}, {}, {}),
    ({"usage": "read"}, {"usage": "write"}, {"usage": "write"}, {"usage": "read"}),
    ({"usage": "read"}, {"usage": "*"}, {"usage": "write"}, {}),
    ({"usage": "*"}, {"usage": "read"}, {}, {"usage": "write"}),
    ({"usage": "*", "buckets": "read"}, {}, {}, {"usage": "*", "buckets": "read"}),
])
def test_caps_changes_add_and_remove_permission_bits(current, desired, to_add, to_remove):
    assert caps_changes(current, desired) == (to_add, to_remove)


# -- views ------------------------------------------------------------------------------------------------
RGW_USER = {
    "user_id": "iceberg", "display_name": "Iceberg", "suspended": 0, "max_buckets": 1000,
    "keys": [{"user": "iceberg", "access_key": "AK1", "secret_key": "SK1"},
             {"user": "iceberg", "access_key": "AK2", "secret_key": "SK2"}],
    "caps": [{"type": "usage", "perm": "read"}],
    "user_quota": {"enabled": True, "check_on_raw": False, "max_size": 1073741824, "max_size_kb": 1048576,
                   "max_objects": -1},
}


def test_user_view_has_no_keys_and_reads_quota_in_bytes():
    view = user_view(RGW_USER)
    assert view == {"uid": "iceberg", "display_name": "Iceberg", "caps": {"usage": "read"},
                    "quota": {"enabled": True, "max_size": 1073741824, "max_objects": -1, "max_buckets": 1000},
                    "suspended": False}
    assert "AK1" not in json.dumps(view) and "SK1" not in json.dumps(view)
    assert user_view(None) is None


def test_first_s3_key():
    assert first_s3_key(RGW_USER) == ("AK1", "SK1")
    assert first_s3_key({"keys": []}) == (None, None)
    assert first_s3_key(None) == (None, None)


# -- transport and error mapping (fake opener) -------------------------------------------------------
class FakeResponse(object):
    def __init__(self, body):
        self._body = body

    def read(self):
        return self._body


class FakeOpener(object):
    """Stands in for open_url: records calls; answers with a body, or raises what it is given."""

    def __init__(self, answer=b"", error=None):
        self.answer = answer
        self.error = error
        self.calls = []

    def __call__(self, url, **kwargs):
        self.calls.append(dict(kwargs, url=url))
        if self.error is not None:
            raise self.error
        return FakeResponse(self.answer)


def http_error(status, body):
    return HTTPError(ENDPOINT + "/admin/user", status, "error", {}, io.BytesIO(body))


def client(opener):
    return RGWAdmin(ENDPOINT, "AKADMIN", "SKADMIN", opener=opener)


def test_get_user_sends_a_signed_get_with_tls_verification_on():
    opener = FakeOpener(json.dumps(RGW_USER).encode())
    assert client(opener).get_user("iceberg")["user_id"] == "iceberg"
    call = opener.calls[0]
    assert call["method"] == "GET"
    assert call["url"] == ENDPOINT + "/admin/user?uid=iceberg"
    assert call["validate_certs"] is True
    assert call["use_netrc"] is False
    assert call["follow_redirects"] == "none"
    assert call["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKADMIN/")
    assert call["headers"]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


def test_no_such_user_is_none_not_an_error():
    opener = FakeOpener(error=http_error(404, b'{"Code":"NoSuchUser","Message":""}'))
    assert client(opener).get_user("nobody") is None


@pytest.mark.parametrize("code,hint", [
    ("InvalidAccessKeyId", "admin_access_key"),
    ("SignatureDoesNotMatch", "admin_secret_key"),
    ("AccessDenied", "users=*"),
])
def test_403_names_the_rgw_code_and_what_to_check(code, hint):
    opener = FakeOpener(error=http_error(403, json.dumps({"Code": code}).encode()))
    with pytest.raises(RGWAuthError) as caught:
        client(opener).get_user("iceberg")
    assert code in caught.value.msg and hint in caught.value.msg and ENDPOINT in caught.value.msg
    assert caught.value.status == 403 and caught.value.code == code


@pytest.mark.parametrize("error", [
    URLError(ConnectionRefusedError(111, "Connection refused")),
    socket.timeout("timed out"),
])
def test_unreachable_endpoint_is_a_connection_error_naming_it(error):
    with pytest.raises(RGWConnectionError) as caught:
        client(FakeOpener(error=error)).get_user("iceberg")
    assert "Cannot reach the RGW endpoint %s" % ENDPOINT in caught.value.msg


def test_tls_failure_says_which_options_help():
    with pytest.raises(RGWConnectionError) as caught:
        client(FakeOpener(error=SSLValidationError("certificate verify failed"))).get_user("iceberg")
    assert "endpoint_ca_cert" in caught.value.msg and "endpoint_validate_certs" in caught.value.msg


def test_non_rgw_answers_are_reported_as_such():
    with pytest.raises(RGWAdminError, match="not JSON"):
        client(FakeOpener(b"<html>hello</html>")).get_user("iceberg")
    with pytest.raises(RGWAdminError, match="without an RGW error code"):
        client(FakeOpener(error=http_error(404, b"Not Found"))).get_user("iceberg")


def test_other_errors_carry_status_and_code():
    opener = FakeOpener(error=http_error(409, b'{"Code":"BucketAlreadyExists","Message":"busy"}'))
    with pytest.raises(RGWAdminError) as caught:
        client(opener).delete_user("iceberg")
    assert caught.value.status == 409 and caught.value.code == "BucketAlreadyExists"
    assert "HTTP 409 BucketAlreadyExists: busy" in caught.value.msg


def test_write_calls_use_the_admin_ops_parameters():
    opener = FakeOpener(b"")
    admin = client(opener)
    admin.create_user("u", "User One", max_buckets=5, suspended=False)
    admin.modify_user("u", display_name="User 1")
    admin.set_user_quota("u", True, 1073741824, -1)
    admin.add_caps("u", {"usage": "read", "buckets": "*"})
    admin.remove_caps("u", {"usage": "write"})
    admin.create_s3_key("u")
    admin.delete_user("u", purge_data=True)
    sent = [(c["method"], dict(parse_qsl(urlsplit(c["url"]).query, keep_blank_values=True))) for c in opener.calls]
    assert sent == [
        ("PUT", {"uid": "u", "display-name": "User One", "generate-key": "true", "key-type": "s3",
                 "max-buckets": "5", "suspended": "false"}),
        ("POST", {"uid": "u", "display-name": "User 1"}),
        ("PUT", {"quota": "", "uid": "u", "quota-type": "user", "enabled": "true", "max-size": "1073741824",
                 "max-objects": "-1"}),
        ("PUT", {"caps": "", "uid": "u", "user-caps": "buckets=*;usage=read"}),
        ("DELETE", {"caps": "", "uid": "u", "user-caps": "usage=write"}),
        ("PUT", {"key": "", "uid": "u", "key-type": "s3", "generate-key": "true"}),
        ("DELETE", {"uid": "u", "purge-data": "true"}),
    ]
    assert [r[0] for r in admin.requests] == ["PUT", "POST", "PUT", "PUT", "DELETE", "PUT", "DELETE"]


def test_delete_of_a_missing_user_is_not_an_error():
    opener = FakeOpener(error=http_error(404, b'{"Code":"NoSuchUser"}'))
    assert client(opener).delete_user("nobody") is False


@pytest.mark.parametrize("endpoint", ["rgw.example.com", "ftp://rgw", "", None, "http://"])
def test_endpoint_must_be_an_http_url(endpoint):
    with pytest.raises(ValueError, match="not an http"):
        RGWAdmin(endpoint, "a", "b")


def test_parse_error():
    assert parse_error(b'{"Code":"NoSuchUser","Message":"gone"}') == ("NoSuchUser", "gone")
    assert parse_error(b"plain text") == (None, "plain text")
    assert parse_error(b"") == (None, "")


def test_botocore_is_required_and_present_here():
    assert rgw_admin.HAS_BOTOCORE


# -- converging -------------------------------------------------------------------------------------------
class ScriptedClient(object):
    """Records calls; the method named in `fails` raises, as RGW would."""

    def __init__(self, fails=()):
        self.fails = fails
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append(name)
            if name in self.fails:
                raise RGWAdminError("%s failed with HTTP 400" % name, 400, "InvalidArgument")
        return call


def test_apply_deletes_a_user_it_created_when_a_later_step_fails():
    steps = [("create_user", {"uid": "u", "display_name": "u"}), ("set_user_quota", {"uid": "u"})]
    client = ScriptedClient(fails=("set_user_quota",))
    with pytest.raises(RGWAdminError) as caught:
        rgw_admin.apply_user_changes(client, "u", steps)
    assert client.calls == ["create_user", "set_user_quota", "delete_user"]
    assert "created by this run was deleted again" in str(caught.value)


def test_apply_says_when_the_cleanup_failed_too():
    steps = [("create_user", {"uid": "u", "display_name": "u"}), ("add_caps", {"uid": "u"})]
    client = ScriptedClient(fails=("add_caps", "delete_user"))
    with pytest.raises(RGWAdminError) as caught:
        rgw_admin.apply_user_changes(client, "u", steps)
    assert "could not be deleted: delete_user failed" in caught.value.msg


def test_apply_never_deletes_a_user_it_did_not_create():
    client = ScriptedClient(fails=("set_user_quota",))
    with pytest.raises(RGWAdminError):
        rgw_admin.apply_user_changes(client, "u", [("set_user_quota", {"uid": "u"})])
    assert client.calls == ["set_user_quota"]


def test_read_user_fetches_the_quota_when_the_user_info_lacks_it():
    class OldGateway(object):
        def get_user(self, uid):
            return {"user_id": uid, "display_name": uid, "caps": [], "keys": [], "max_buckets": 1000}

        def get_user_quota(self, uid):
            return {"enabled": True, "max_size": 5, "max_objects": -1}

    user, view = rgw_admin.read_user(OldGateway(), "u")
    assert view["quota"] == {"enabled": True, "max_size": 5, "max_objects": -1, "max_buckets": 1000}
