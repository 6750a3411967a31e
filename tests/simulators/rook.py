"""Rook's CephObjectStoreUser controller (ceph.rook.io/v1), as far as the Kubernetes API shows it.

Real Rook adds its finalizer, writes an empty status on first sight, creates the RGW user, writes the Secret
`rook-ceph-object-user-<store>-<name>` (controller-owned by the CR) and then `phase: Ready` with
`observedGeneration`. Failures set `phase: ReconcileFailed` *without* touching observedGeneration and record
a Warning event.

Keys handed out, first match wins:
  1. `spec.keys[0]` (accessKeyRef/secretKeyRef Secrets in the CR's namespace: bring-your-own keys);
  2. the simulator's keys Secret (config.rook_keys_secret, default lakehouse-sim/rook-object-user-keys):
     `<namespace>.<user>.AccessKey` / `.SecretKey` for one user, else `AccessKey` / `SecretKey` for all;
     an `Endpoint` (or `<namespace>.<user>.Endpoint`) key overrides the in-cluster endpoint. This is how tests
     make a simulated user hand out the keys of a real radosgw user;
  3. the keys already in the user's Secret (they stay stable);
  4. freshly generated RGW-style keys (20-character access key, 40-character secret).
"""
import secrets
import string

from . import behaviour as beh
from .objects import generation, meta, name_of, namespace_of, owner_reference, secret_data, secret_values
from .runtime import Controller

FINALIZER = "cephobjectstoreuser.ceph.rook.io"
COMPONENT = "rook-ceph-object-store-user-controller"


def secret_name(user):
    return f"rook-ceph-object-user-{(user.get('spec') or {}).get('store')}-{name_of(user)}"


def default_endpoint(user):
    spec = user.get("spec") or {}
    cluster_ns = spec.get("clusterNamespace") or namespace_of(user)
    return f"http://rook-ceph-rgw-{spec.get('store')}.{cluster_ns}.svc:80"


def generate_keys():
    upper = string.ascii_uppercase + string.digits
    alnum = string.ascii_letters + string.digits
    return ("".join(secrets.choice(upper) for _position in range(20)),
            "".join(secrets.choice(alnum) for _position in range(40)))


def keys_from_config(config_values, user):
    """(access, secret, endpoint-or-None) from the simulator keys Secret, or None (pure function)."""
    prefix = f"{namespace_of(user)}.{name_of(user)}."
    for p in (prefix, ""):
        if config_values.get(p + "AccessKey") and config_values.get(p + "SecretKey"):
            endpoint = config_values.get(prefix + "Endpoint") or config_values.get("Endpoint")
            return config_values[p + "AccessKey"], config_values[p + "SecretKey"], endpoint
    return None


def user_secret(user, access_key, secret_key, endpoint):
    """The Secret Rook writes for a user (pure function)."""
    spec = user.get("spec") or {}
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/rook",
        "metadata": {
            "name": secret_name(user), "namespace": namespace_of(user),
            "labels": {"app": "rook-ceph-rgw", "user": name_of(user), "rook_cluster": namespace_of(user),
                       "rook_object_store": spec.get("store", "")},
            "ownerReferences": [owner_reference(user)],
        },
        "data": secret_data({"AccessKey": access_key, "SecretKey": secret_key, "Endpoint": endpoint}),
    }


def ready_status(user, key_refs=None):
    status = {"phase": "Ready", "info": {"secretName": secret_name(user)}, "observedGeneration": generation(user)}
    if key_refs:
        status["keys"] = key_refs
    return status


class CephObjectStoreUserController(Controller):
    api_version, kind = "ceph.rook.io/v1", "CephObjectStoreUser"
    owns = (("v1", "Secret"),)
    group = "rook"

    def reconcile(self, user, /):
        md = meta(user)
        if md.get("deletionTimestamp"):
            self._remove_finalizer(user)
            return None
        if FINALIZER not in (md.get("finalizers") or []):
            # Rook returns right after adding its finalizer; the update event brings it back.
            self.kube.patch(self.api_version, self.kind, name_of(user), namespace_of(user),
                            {"metadata": {"finalizers": (md.get("finalizers") or []) + [FINALIZER]}})
            return None
        status = user.get("status")
        if status is None:
            user = self.write_status(user, {"phase": ""})  # "The CR was just created, initializing status fields"
        elif status.get("phase") == "Ready" and status.get("observedGeneration") == generation(user):
            self.ctx.mark_done(user, generation(user))

        behaviour = self.ctx.behaviour(user)
        elapsed = self.ctx.elapsed(user, generation(user))
        state = behaviour.state_at(elapsed)
        current = user.get("status") or {}
        if state == beh.READY:
            try:
                key_refs = self._ensure_secret(user)
            except KeyError as exc:  # a spec.keys reference that does not resolve
                self._fail(user, f'failed to generate UserKeySpec for "{name_of(user)}": {exc.args[0]}')
                return 5.0
            self.write_status(user, ready_status(user, key_refs))
        elif state == beh.FAILED:
            self._fail(user, behaviour.failure_message(
                f'failed to create/update object store user "{name_of(user)}": failed to create ceph object '
                f'user "{name_of(user)}": simulated RGW admin ops failure'))
        elif state == beh.NOT_READY:
            # e.g. the CephCluster is not ready: Rook requeues and leaves the phase empty.
            if current.get("phase"):
                self.write_status(user, {k: v for k, v in current.items() if k not in ("phase", "info")} |
                                  {"phase": ""})
        return behaviour.next_change(elapsed)

    def _fail(self, user, message):
        """ReconcileFailed keeps the previous observedGeneration (Rook passes ObservedGenerationNotAvailable)."""
        current = user.get("status") or {}
        if current.get("phase") != "ReconcileFailed":
            self.write_status(user, {**current, "phase": "ReconcileFailed"})
            self.ctx.record_event(user, "Warning", "ReconcileFailed",
                                  f'failed to reconcile CephObjectStoreUser "{namespace_of(user)}/{name_of(user)}". '
                                  f'{message}', COMPONENT)

    def _remove_finalizer(self, user):
        finalizers = meta(user).get("finalizers") or []
        if FINALIZER in finalizers:
            self.kube.patch(self.api_version, self.kind, name_of(user), namespace_of(user),
                            {"metadata": {"finalizers": [f for f in finalizers if f != FINALIZER]}})

    def _configured_keys(self, user):
        ns, name = (self.config.rook_keys_secret.split("/", 1) + [""])[:2]
        if not name:
            return None
        return keys_from_config(secret_values(self.kube.get("v1", "Secret", name, ns)), user)

    def _brought_keys(self, user):
        """spec.keys[0] -> (access, secret, key status refs); raises KeyError when a reference is missing."""
        keys = (user.get("spec") or {}).get("keys") or []
        if not keys:
            return None
        values, refs = [], {}
        for ref_name in ("accessKeyRef", "secretKeyRef"):
            ref = keys[0].get(ref_name) or {}
            secret = self.kube.get("v1", "Secret", ref.get("name"), namespace_of(user))
            if secret is None or ref.get("key") not in (secret.get("data") or {}):
                raise KeyError(f'{ref_name} Secret "{ref.get("name")}" key "{ref.get("key")}" not found')
            values.append(secret_values(secret)[ref["key"]])
            refs[name_of(secret)] = {"name": name_of(secret), "namespace": namespace_of(secret),
                                     "uid": meta(secret).get("uid"),
                                     "resourceVersion": meta(secret).get("resourceVersion")}
        return values[0], values[1], sorted(refs.values(), key=lambda r: r["name"])

    def _ensure_secret(self, user):
        endpoint = default_endpoint(user)
        key_refs = None
        brought = self._brought_keys(user)
        existing = self.kube.get("v1", "Secret", secret_name(user), namespace_of(user))
        if brought:
            access, secret_key, key_refs = brought
        else:
            configured = self._configured_keys(user)
            if configured:
                access, secret_key, endpoint = configured[0], configured[1], configured[2] or endpoint
            elif existing:
                values = secret_values(existing)
                access, secret_key = values.get("AccessKey"), values.get("SecretKey")
            else:
                access, secret_key = generate_keys()
        desired = user_secret(user, access, secret_key, endpoint)
        if existing is None:
            self.kube.create_if_absent(desired)
        elif existing.get("data") != desired["data"]:
            self.kube.patch("v1", "Secret", secret_name(user), namespace_of(user), {"data": desired["data"]})
        return key_refs
