#!/usr/bin/env python3
"""Checks deploy/ against the binaries it runs (called by scripts/validate-deploy.sh).

- every option the compose file, the Kubernetes ConfigMap and deploy/*.yaml pass to a daemon is
  one that daemon's `serve --help` lists (a renamed flag breaks the deployment, not just a test);
- the cloud-node configuration in the ConfigMap really starts a cloud node: its key paths are
  pointed at fresh keys, its ports at free loopback ports, and /ready must answer 200;
- the compose file's services, volumes and dependencies refer to things that exist.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(message):
    print(f"deploy check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def options_of(binary):
    """Long options `serve --help` lists, without the leading dashes."""
    text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"--([a-z][a-z0-9-]*)", text))


def check_options(where, used, known):
    unknown = sorted(set(used) - known - {"config", "help"})
    if unknown:
        fail(f"{where} uses options the daemon does not have: {unknown}")
    print(f"ok  {where}: {len(set(used))} options known to the daemon")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(bin_dir):
    cloud_bin, edge_bin = os.path.join(bin_dir, "cloud-node"), os.path.join(bin_dir, "edge-node")
    cloud_options, edge_options = options_of(cloud_bin), options_of(edge_bin)

    # deploy/*.yaml: option names as keys.
    for name, known in (("cloud-node.yaml", cloud_options), ("edge-node.yaml", edge_options)):
        config = yaml.safe_load(open(os.path.join(ROOT, "deploy", name)))
        check_options(f"deploy/{name}", config.keys(), known)

    # Compose: flags in each daemon service's command; references resolve.
    compose = yaml.safe_load(open(os.path.join(ROOT, "deploy", "compose.yaml")))
    services = compose.get("services") or fail("compose.yaml has no services")
    volumes = set((compose.get("volumes") or {}).keys())
    for name, service in services.items():
        for dependency in (service.get("depends_on") or {}):
            if dependency not in services:
                fail(f"compose service {name} depends on unknown service {dependency}")
        for mount in service.get("volumes") or []:
            source = mount.split(":")[0]
            if not source.startswith((".", "/")) and source not in volumes:
                fail(f"compose service {name} mounts undeclared volume {source}")
        image = service.get("image", "")
        if service.get("entrypoint"):
            continue  # key-making one-shots
        flags = [arg.split("=")[0][2:] for arg in service.get("command", []) if arg.startswith("--")]
        known = cloud_options if "cloud-node" in image else edge_options
        check_options(f"compose service {name}", flags, known)

    # Kubernetes ConfigMap: parse, check, then run it.
    configmap = yaml.safe_load(open(os.path.join(ROOT, "deploy", "kubernetes", "cloud-node-config.yaml")))
    config = yaml.safe_load(configmap["data"]["cloud-node.yaml"])
    check_options("kubernetes ConfigMap cloud-node.yaml", config.keys(), cloud_options)
    with tempfile.TemporaryDirectory() as work:
        key, public = os.path.join(work, "cloud.key"), os.path.join(work, "cloud.pub")
        edge_key, edge_public = os.path.join(work, "edge.key"), os.path.join(work, "edges.pub")
        subprocess.run([cloud_bin, "keygen", "--secret-file", key, "--public-file", public], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([edge_bin, "keygen", "--secret-file", edge_key, "--public-file", edge_public], check=True, stdout=subprocess.DEVNULL)
        zmq_port, http_port = free_port(), free_port()
        config["key"] = key
        config["allow"] = [edge_public]
        config["bind"] = [f"tcp://127.0.0.1:{zmq_port}"]
        config["http-port"] = http_port
        config["http-host"] = "127.0.0.1"
        config["model"] = os.path.join(ROOT, config["model"])
        config_path = os.path.join(work, "cloud-node.yaml")
        yaml.safe_dump(config, open(config_path, "w"))
        log = open(os.path.join(work, "cloud.log"), "w+")
        process = subprocess.Popen([cloud_bin, "serve", "--config", config_path], stdout=log, stderr=log)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/ready", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.time() > deadline:
                    log.seek(0)
                    fail(f"cloud-node with the ConfigMap's configuration did not become ready:\n{log.read()}")
                time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2) as reply:
                if b"split_cloud_messages_received_total" not in reply.read():
                    fail("the cloud's /metrics lacks split_cloud_messages_received_total")
            print("ok  kubernetes ConfigMap: cloud-node starts with it and reports ready, /metrics answers")
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release"))
