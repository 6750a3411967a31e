"""CloudNativePG controllers (postgresql.cnpg.io/v1): Cluster, Backup, ScheduledBackup.

Cluster: Secret `<cr>-app` (basic-auth; not generated when `bootstrap.initdb.secret.name` is given),
`<cr>-superuser` when `enableSuperuserAccess`, Services `<cr>-rw` / `<cr>-ro` / `<cr>-r`, and instances
`<cr>-1`, `<cr>-2`, ... (a PVC and a Pod each, created one at a time like CNPG's initdb + join). Phases are
CNPG's exact strings; condition Ready is True/ClusterIsReady only in "Cluster in healthy state". Status
`readService` is `<cr>-r`, as CNPG itself reports it (GetServiceReadName).

With a real PostgreSQL configured (SimulatorConfig.postgres), the initdb step really creates
`bootstrap.initdb.database` owned by `bootstrap.initdb.owner` with the Secret's password on that server and
the app Secret's host/port point at it.

Modes: delay / never-ready / flap / degrade reach the instance pods; `fail` is a Cluster-level failure:
no instances, phase `Unable to create required cluster objects` (or the annotation
`sim.lakehouse.test/failure-phase`), Ready=False, phaseReason = the failure message.
"""
import datetime
import logging
import secrets
import string
import urllib.parse

from croniter import croniter

from . import behaviour as beh
from .objects import (is_controlled_by, meta, name_of, namespace_of, owner_reference,
                      pod_phase, pod_ready, rfc3339, secret_data, secret_values, set_condition, utcnow)
from .pg import PostgresProvisioner, marker
from .runtime import Controller
from .workloads import pod_from_template

LOG = logging.getLogger(__name__)
API = "postgresql.cnpg.io/v1"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_SETTING_UP_PRIMARY = "Setting up primary"
PHASE_CREATING_REPLICA = "Creating a new replica"
PHASE_WAITING_INSTANCES = "Waiting for the instances to become active"
PHASE_CANNOT_CREATE = "Unable to create required cluster objects"
FAILURE_PHASE_ANNOTATION = f"{beh.PREFIX}/failure-phase"
CLUSTER_LABEL = "cnpg.io/cluster"
DEFAULT_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17.5"
PORT = 5432
COMPONENT = "cloudnative-pg"


def instances(cluster):
    return int((cluster.get("spec") or {}).get("instances") or 1)


def initdb(cluster):
    return (((cluster.get("spec") or {}).get("bootstrap") or {}).get("initdb") or {})


def app_database(cluster):
    spec = initdb(cluster)
    database = spec.get("database") or "app"
    return database, spec.get("owner") or database


def app_secret_name(cluster):
    return (initdb(cluster).get("secret") or {}).get("name") or f"{name_of(cluster)}-app"


def generate_password(length=64):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _position in range(length))


def connection_values(host, port, namespace, dbname, username, password, cluster_domain, qualify_host=True):
    """The keys of a CNPG app/superuser Secret (pkg/specs/secrets.go), as plain strings (pure function)."""
    host_ns = f"{host}.{namespace}:{port}" if qualify_host else f"{host}:{port}"
    host_fqdn = f"{host}.{namespace}.svc.{cluster_domain}:{port}" if qualify_host else f"{host}:{port}"
    userinfo = f"{urllib.parse.quote(username, safe='')}:{urllib.parse.quote(password, safe='')}"
    query = urllib.parse.urlencode({"password": password, "user": username})

    def uri(h):
        return f"postgresql://{userinfo}@{h}/{dbname}"

    def jdbc(h):
        return f"jdbc:postgresql://{h}/{dbname}?{query}"
    return {"username": username, "user": username, "password": password, "dbname": dbname, "host": host,
            "port": str(port), "pgpass": f"{host}:{port}:{dbname}:{username}:{password}\n",
            "uri": uri(host_ns), "jdbc-uri": jdbc(host_ns), "fqdn-uri": uri(host_fqdn),
            "fqdn-jdbc-uri": jdbc(host_fqdn)}


def cluster_status(cluster, pods, now, failure=None):
    """CNPG Cluster status from its instance pods (pure function).

    failure: None or (phase, reason message) for a Cluster-level failure.
    """
    name = name_of(cluster)
    old = cluster.get("status") or {}
    want = instances(cluster)
    pods = sorted(pods, key=lambda p: _serial(name_of(p), name))
    ready = [name_of(p) for p in pods if pod_ready(p)]
    primary_name = f"{name}-1" if pods else old.get("currentPrimary")
    primary = next((p for p in pods if name_of(p) == primary_name), None)
    status = {k: v for k, v in old.items() if k not in ("phaseReason",)}
    status.update({"instances": want, "readyInstances": len(ready),
                   "writeService": f"{name}-rw", "readService": f"{name}-r",
                   "instanceNames": [name_of(p) for p in pods],
                   "selector": f"{CLUSTER_LABEL}={name},cnpg.io/podRole=instance",
                   "image": (cluster.get("spec") or {}).get("imageName") or DEFAULT_IMAGE})
    groups = {}
    for pod in pods:
        bucket = "healthy" if pod_ready(pod) else ("failed" if pod_phase(pod) == "Failed" else "replicating")
        groups.setdefault(bucket, []).append(name_of(pod))
    status["instancesStatus"] = groups
    if pods:
        status["targetPrimary"] = primary_name
        status["targetPrimaryTimestamp"] = old.get("targetPrimaryTimestamp") or now
        status["latestGeneratedNode"] = max(_serial(name_of(p), name) for p in pods)
    if primary is not None and pod_ready(primary):
        status["currentPrimary"] = primary_name
        status["currentPrimaryTimestamp"] = old.get("currentPrimaryTimestamp") or now
        status["timelineID"] = old.get("timelineID") or 1
    if failure:
        phase, reason = failure
    elif primary is None or (not pod_ready(primary) and old.get("phase") in (None, "", PHASE_SETTING_UP_PRIMARY)):
        phase, reason = PHASE_SETTING_UP_PRIMARY, f"Creating primary instance {name}-1"
    elif len(ready) == want and len(pods) == want:
        phase, reason = PHASE_HEALTHY, ""
    elif len(pods) < want:
        phase, reason = PHASE_CREATING_REPLICA, f"Creating replica {name}-{status.get('latestGeneratedNode', 0) + 1}"
    else:
        phase, reason = PHASE_WAITING_INSTANCES, ""
    status["phase"] = phase
    if reason:
        status["phaseReason"] = reason
    conditions = old.get("conditions") or []
    if phase == PHASE_HEALTHY:
        conditions = set_condition(conditions, "Ready", "True", "ClusterIsReady", "Cluster is Ready")
    else:
        conditions = set_condition(conditions, "Ready", "False", "ClusterIsNotReady", "Cluster Is Not Ready")
    status["conditions"] = conditions
    return status


def _serial(pod_name, cluster_name):
    suffix = pod_name[len(cluster_name) + 1:]
    return int(suffix) if suffix.isdigit() else 0


def _cluster_keys(controller, obj):
    cluster = (meta(obj).get("labels") or {}).get(CLUSTER_LABEL)
    return [(namespace_of(obj), cluster)] if cluster else []


class ClusterController(Controller):
    api_version, kind = API, "Cluster"
    watches = (("v1", "Pod", _cluster_keys),)
    group = "cnpg"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.provisioner = PostgresProvisioner(ctx.config.postgres) if ctx.config.postgres else None

    def reconcile(self, cluster, /):
        if meta(cluster).get("deletionTimestamp"):
            return None
        behaviour = self.ctx.behaviour(cluster)
        elapsed = self.ctx.elapsed(cluster)
        ns, name = namespace_of(cluster), name_of(cluster)
        username, password = self._ensure_secrets(cluster)
        self._ensure_services(cluster)
        if behaviour.mode == beh.MODE_FAIL:
            failure = None
            if behaviour.state_at(elapsed) == beh.FAILED:
                phase = (meta(cluster).get("annotations") or {}).get(FAILURE_PHASE_ANNOTATION) or PHASE_CANNOT_CREATE
                failure = (phase, behaviour.failure_message(
                    f'failed to create the primary instance: pods "{name}-1" is forbidden: exceeded quota'))
                if (cluster.get("status") or {}).get("phase") != phase:
                    self.ctx.record_event(cluster, "Warning", "CreationFailed", failure[1], COMPONENT)
            self.write_status(cluster, cluster_status(cluster, [], rfc3339(), failure))
            return behaviour.next_change(elapsed)

        pods = [p for p in self.kube.list("v1", "Pod", ns, label_selector=f"{CLUSTER_LABEL}={name}")
                if is_controlled_by(p, cluster) and not meta(p).get("deletionTimestamp")]
        want = instances(cluster)
        serials = sorted(_serial(name_of(p), name) for p in pods)
        for pod in pods:
            if _serial(name_of(pod), name) > want:
                self.kube.delete("v1", "Pod", name_of(pod), ns)
                self.kube.delete("v1", "PersistentVolumeClaim", name_of(pod), ns)
        pods = [p for p in pods if _serial(name_of(p), name) <= want]
        if len(pods) < want and all(pod_ready(p) for p in pods):
            serial = next(i for i in range(1, want + 1) if i not in serials)
            if serial == 1:
                self._initdb(cluster, username, password)
            pods.append(self._create_instance(cluster, serial))
        self.write_status(cluster, cluster_status(cluster, pods, rfc3339()))
        return None

    # -- objects -------------------------------------------------------------------------------------------
    def _target(self):
        return self.config.postgres

    def _ensure_secrets(self, cluster):
        ns, name = namespace_of(cluster), name_of(cluster)
        database, owner = app_database(cluster)
        secret_name = app_secret_name(cluster)
        existing = self.kube.get("v1", "Secret", secret_name, ns)
        user_supplied = bool((initdb(cluster).get("secret") or {}).get("name"))
        if user_supplied:
            if existing is None:
                raise RuntimeError(f"bootstrap.initdb.secret {secret_name} not found in {ns}")
            values = secret_values(existing)
            return values.get("username", owner), values.get("password", "")
        password = secret_values(existing).get("password") if existing else None
        password = password or generate_password()
        target = self._target()
        if target:
            values = connection_values(target.host, target.port, ns, database, owner, password,
                                       self.config.cluster_domain, qualify_host=False)
        else:
            values = connection_values(f"{name}-rw", PORT, ns, database, owner, password, self.config.cluster_domain)
        desired = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                   "metadata": {"name": secret_name, "namespace": ns,
                                "labels": {CLUSTER_LABEL: name, "cnpg.io/userType": "app", "cnpg.io/reload": "true",
                                           "app.kubernetes.io/managed-by": "cloudnative-pg"},
                                "ownerReferences": [owner_reference(cluster)]},
                   "data": secret_data(values)}
        if existing is None:
            self.kube.create_if_absent(desired)
        elif existing.get("data") != desired["data"]:
            self.kube.patch("v1", "Secret", secret_name, ns, {"data": desired["data"]})
        spec = cluster.get("spec") or {}
        if spec.get("enableSuperuserAccess") and not (spec.get("superuserSecret") or {}).get("name"):
            su_name = f"{name}-superuser"
            if self.kube.get("v1", "Secret", su_name, ns) is None:
                su_values = connection_values(f"{name}-rw", PORT, ns, "*", "postgres", generate_password(),
                                              self.config.cluster_domain)
                self.kube.create_if_absent({
                    "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                    "metadata": {"name": su_name, "namespace": ns,
                                 "labels": {CLUSTER_LABEL: name, "cnpg.io/userType": "superuser",
                                            "cnpg.io/reload": "true",
                                            "app.kubernetes.io/managed-by": "cloudnative-pg"},
                                 "ownerReferences": [owner_reference(cluster)]},
                    "data": secret_data(su_values)})
        return owner, password

    def _ensure_services(self, cluster):
        ns, name = namespace_of(cluster), name_of(cluster)
        roles = {"rw": {"cnpg.io/instanceRole": "primary"}, "ro": {"cnpg.io/instanceRole": "replica"},
                 "r": {"cnpg.io/podRole": "instance"}}
        for suffix, role in roles.items():
            self.kube.create_if_absent({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": f"{name}-{suffix}", "namespace": ns, "labels": {CLUSTER_LABEL: name},
                             "ownerReferences": [owner_reference(cluster)]},
                "spec": {"type": "ClusterIP", "selector": {CLUSTER_LABEL: name, **role},
                         "ports": [{"name": "postgres", "port": PORT, "targetPort": PORT, "protocol": "TCP"}]},
            })

    def _initdb(self, cluster, username, password):
        if not self.provisioner:
            return
        database, owner = app_database(cluster)
        created = self.provisioner.ensure_database(
            database, owner, password, marker(namespace_of(cluster), name_of(cluster)),
            initdb(cluster).get("postInitApplicationSQL") or ())
        if created:
            self.ctx.record_event(cluster, "Normal", "InitDB", f'database "{database}" created, owner "{owner}"',
                                  COMPONENT)

    def _create_instance(self, cluster, serial):
        ns, name = namespace_of(cluster), name_of(cluster)
        spec = cluster.get("spec") or {}
        instance = f"{name}-{serial}"
        role = "primary" if serial == 1 else "replica"
        storage = spec.get("storage") or {}
        pvc_spec = {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": storage.get("size") or "1Gi"}}}
        if storage.get("storageClass"):
            pvc_spec["storageClassName"] = storage["storageClass"]
        volumes = [{"name": "pgdata", "persistentVolumeClaim": {"claimName": instance}}]
        claims = [(instance, "PG_DATA", pvc_spec)]
        if spec.get("walStorage"):
            wal = spec["walStorage"]
            wal_spec = {"accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": wal.get("size") or "1Gi"}}}
            if wal.get("storageClass"):
                wal_spec["storageClassName"] = wal["storageClass"]
            claims.append((f"{instance}-wal", "PG_WAL", wal_spec))
            volumes.append({"name": "pg-wal", "persistentVolumeClaim": {"claimName": f"{instance}-wal"}})
        for claim_name, pvc_role, claim_spec in claims:
            self.kube.create_if_absent({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "namespace": ns,
                             "labels": {CLUSTER_LABEL: name, "cnpg.io/instanceName": instance,
                                        "cnpg.io/pvcRole": pvc_role},
                             "ownerReferences": [owner_reference(cluster)]},
                "spec": claim_spec})
        container = {"name": "postgres", "image": spec.get("imageName") or DEFAULT_IMAGE,
                     "ports": [{"name": "postgresql", "containerPort": PORT, "protocol": "TCP"},
                               {"name": "metrics", "containerPort": 9187, "protocol": "TCP"},
                               {"name": "status", "containerPort": 8000, "protocol": "TCP"}]}
        if spec.get("resources"):
            container["resources"] = spec["resources"]
        template = {"metadata": {"labels": {CLUSTER_LABEL: name, "cnpg.io/instanceName": instance,
                                            "cnpg.io/instanceRole": role, "role": role,
                                            "cnpg.io/podRole": "instance"}},
                    "spec": {"containers": [container], "volumes": volumes, "hostname": instance}}
        pod = pod_from_template(template, instance, ns, cluster,
                                inherited_annotations=self.ctx.inherited_annotations(cluster),
                                node_name=self.ctx.pick_node())
        return self.kube.create_if_absent(pod)

    def deleted(self, cluster, /):
        """Deleting a Cluster deletes its data: drop the database the simulator created for it."""
        if not self.provisioner:
            return
        database, _owner = app_database(cluster)
        try:
            self.provisioner.drop_database(database, marker(namespace_of(cluster), name_of(cluster)))
        except Exception as exc:  # noqa: BLE001 - the server may be gone at shutdown
            LOG.warning("could not drop database %s: %s", database, exc)


# -- Backup ------------------------------------------------------------------------------------------------
BACKUP_DONE = ("completed", "failed", "walArchivingFailing", "invalid backup definition")


def backup_id(moment):
    return moment.strftime("%Y%m%dT%H%M%S")


def backup_status(backup, cluster, state, started_at, now, message):
    """Backup status for simulator state `state` (pure function). state: None (cluster not healthy yet),
    PROGRESSING (running), READY (completed), FAILED, NOT_READY (stays running)."""
    old = backup.get("status") or {}
    spec = backup.get("spec") or {}
    cluster_status_ = (cluster or {}).get("status") or {}
    status = dict(old)
    if state is None:
        status["phase"] = "pending"
        return status
    primary = cluster_status_.get("currentPrimary") or f"{name_of(cluster)}-1"
    status.update({"method": spec.get("method") or "barmanObjectStore", "online": spec.get("online", True),
                   "startedAt": old.get("startedAt") or started_at,
                   "instanceID": {"podName": primary}, "serverName": name_of(cluster),
                   "backupId": old.get("backupId") or backup_id(utcnow()),
                   "beginWal": "000000010000000000000002", "beginLSN": "0/2000028"})
    status["backupName"] = status.get("backupName") or f"backup-{status['backupId']}"
    if state in (beh.PROGRESSING, beh.NOT_READY):
        status["phase"] = "running" if old.get("phase") in ("started", "running") else "started"
    elif state == beh.READY:
        status.update({"phase": "completed", "stoppedAt": old.get("stoppedAt") or now,
                       "endWal": "000000010000000000000003", "endLSN": "0/3000000"})
        status.pop("error", None)
    elif state == beh.FAILED:
        status.update({"phase": "failed", "stoppedAt": old.get("stoppedAt") or now, "error": message})
    return status


class BackupController(Controller):
    api_version, kind = API, "Backup"
    group = "cnpg"

    def reconcile(self, backup, /):
        old_phase = (backup.get("status") or {}).get("phase")
        if old_phase in BACKUP_DONE or meta(backup).get("deletionTimestamp"):
            return None
        cluster_name = ((backup.get("spec") or {}).get("cluster") or {}).get("name")
        cluster = self.kube.get(API, "Cluster", cluster_name, namespace_of(backup)) if cluster_name else None
        if cluster is None:
            if old_phase != "pending":
                self.ctx.record_event(backup, "Warning", "FindingCluster",
                                      f"Unknown cluster {cluster_name}, will retry in 30 seconds", COMPONENT)
                self.write_status(backup, backup_status(backup, None, None, None, None, ""))
            return 2.0
        healthy = (cluster.get("status") or {}).get("phase") == PHASE_HEALTHY
        if not healthy and old_phase in (None, "", "pending"):
            self.write_status(backup, backup_status(backup, cluster, None, None, None, ""))
            return 1.0
        behaviour = self.ctx.behaviour(backup)
        elapsed = self.ctx.elapsed(backup, "started")
        state = behaviour.state_at(elapsed)
        message = behaviour.failure_message("can't execute backup: exit status 4 (barman-cloud-backup: "
                                            "could not connect to the object store)")
        updated = self.write_status(backup, backup_status(backup, cluster, state, rfc3339(), rfc3339(), message))
        if state == beh.PROGRESSING and (updated.get("status") or {}).get("phase") == "started":
            return min(0.1, behaviour.delay / 4) or 0.05  # started -> running
        if state in (beh.READY, beh.FAILED):
            self._report_on_cluster(cluster, state, message)
            return None
        return behaviour.next_change(elapsed)

    def _report_on_cluster(self, cluster, state, message):
        conditions = (cluster.get("status") or {}).get("conditions") or []
        if state == beh.READY:
            conditions = set_condition(conditions, "LastBackupSucceeded", "True", "LastBackupSucceeded", "")
        else:
            conditions = set_condition(conditions, "LastBackupSucceeded", "False", "LastBackupFailed", message)
        self.kube.patch(API, "Cluster", name_of(cluster), namespace_of(cluster),
                        {"status": {"conditions": conditions}}, subresource="status")


# -- ScheduledBackup ----------------------------------------------------------------------------------------
def next_run(schedule, after):
    """Next time of a robfig-style 6-field (seconds first) cron schedule or @descriptor, strictly after."""
    fields = schedule.split()
    if schedule.startswith("@") or len(fields) == 5:
        return croniter(schedule, after).get_next(datetime.datetime)
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime.datetime)


def parse_time(value):
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def scheduled_backup_name(scheduled, moment):
    return f"{name_of(scheduled)}-{moment.strftime('%Y%m%d%H%M%S')}"


def child_backup(scheduled, moment, immediate, owner=None):
    """The Backup a ScheduledBackup creates (pure function); owner is the object named by
    backupOwnerReference (self -> the ScheduledBackup, cluster -> the Cluster) or None."""
    spec = scheduled.get("spec") or {}
    backup_spec = {"cluster": {"name": (spec.get("cluster") or {}).get("name")}}
    for key in ("method", "target", "online", "onlineConfiguration", "pluginConfiguration"):
        if key in spec:
            backup_spec[key] = spec[key]
    labels = {CLUSTER_LABEL: backup_spec["cluster"]["name"], "cnpg.io/immediateBackup": str(immediate).lower(),
              "cnpg.io/scheduled-backup": name_of(scheduled)}
    md = {"name": scheduled_backup_name(scheduled, moment), "namespace": namespace_of(scheduled), "labels": labels}
    if owner is not None:
        md["ownerReferences"] = [owner_reference(owner)]
    return {"apiVersion": API, "kind": "Backup", "metadata": md, "spec": backup_spec}


class ScheduledBackupController(Controller):
    api_version, kind = API, "ScheduledBackup"
    owns = ((API, "Backup"),)
    group = "cnpg"

    def _children(self, scheduled):
        return self.kube.list(API, "Backup", namespace_of(scheduled),
                              label_selector=f"cnpg.io/scheduled-backup={name_of(scheduled)}")

    def owner_keys(self, obj):
        label = (meta(obj).get("labels") or {}).get("cnpg.io/scheduled-backup")
        return [(namespace_of(obj), label)] if label else []

    def reconcile(self, scheduled, /):
        spec = scheduled.get("spec") or {}
        if spec.get("suspend") or meta(scheduled).get("deletionTimestamp"):
            return None
        children = self._children(scheduled)
        if any((b.get("status") or {}).get("phase") not in BACKUP_DONE for b in children):
            return 1.0  # CNPG waits for the running backup (it retries after a minute)
        now = utcnow().replace(microsecond=0)
        try:
            upcoming = next_run(spec.get("schedule", ""), now)
        except (ValueError, KeyError) as exc:
            self.ctx.record_event(scheduled, "Warning", "InvalidSchedule", str(exc), COMPONENT)
            return None
        status = scheduled.get("status") or {}
        if not status.get("lastCheckTime"):
            if spec.get("immediate"):
                return self._create(scheduled, now, now, upcoming, immediate=True)
            self.write_status(scheduled, {**status, "lastCheckTime": rfc3339(now)})
            return (upcoming - now).total_seconds()
        due = next_run(spec.get("schedule", ""), parse_time(status["lastCheckTime"]))
        if now < due:
            return (due - now).total_seconds()
        return self._create(scheduled, due, now, next_run(spec.get("schedule", ""), now), immediate=False)

    def _create(self, scheduled, moment, now, upcoming, immediate):
        mode = (scheduled.get("spec") or {}).get("backupOwnerReference") or "none"
        owner = None
        if mode == "self":
            owner = scheduled
        elif mode == "cluster":
            owner = self.kube.get(API, "Cluster", ((scheduled.get("spec") or {}).get("cluster") or {}).get("name"),
                                  namespace_of(scheduled))
            if owner is None:
                return 2.0
        backup = child_backup(scheduled, moment, immediate, owner)
        self.kube.create_if_absent(backup)
        self.ctx.record_event(scheduled, "Normal", "BackupSchedule",
                              f"Scheduled {'immediate ' if immediate else ''}backup {name_of(backup)}", COMPONENT)
        self.write_status(scheduled, {**(scheduled.get("status") or {}), "lastCheckTime": rfc3339(now),
                                      "lastScheduleTime": rfc3339(moment), "nextScheduleTime": rfc3339(upcoming)})
        return max(0.05, (upcoming - now).total_seconds())
