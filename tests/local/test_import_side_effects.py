"""Importing the local runtime changes nothing in the libraries it patches: botocore, moto and
the others are patched by explicit calls at the runtime's start (moto_patches.install,
s3_disk.install, LambdaRouter.install, faults.armed), never by an import."""

from __future__ import annotations

import json
import subprocess
import sys

# Imports every module of etl_local, then lists what of the third-party modules loaded refers
# to etl_local's code: botocore's built-in handlers, module attributes and class attributes.
_PROBE = """
import importlib, inspect, json, pkgutil, sys
import botocore.handlers
import etl_local

for module in pkgutil.walk_packages(etl_local.__path__, "etl_local."):
    importlib.import_module(module.name)

def ours(value):
    try:  # some modules' attributes import on access (six.moves), and may fail to
        value = getattr(value, "__func__", value)
        return str(getattr(value, "__module__", None) or "").startswith("etl_local")
    except Exception:
        return False

# (event, handler) or (event, handler, where to register)
found = [f"botocore.handlers.BUILTIN_HANDLERS: {entry[0]}"
         for entry in botocore.handlers.BUILTIN_HANDLERS if ours(entry[1])]
for name, module in list(sys.modules.items()):
    if module is None or name.split(".")[0] in ("etl_local", "etl_lambdas", "__main__"):
        continue
    for attribute, value in list(vars(module).items()):
        if ours(value) and not inspect.isclass(value):
            found.append(f"{name}.{attribute}")
        if inspect.isclass(value) and value.__module__ == name:
            found += [f"{name}.{attribute}.{key}" for key, member in vars(value).items()
                      if ours(member)]
print(json.dumps(found))
"""


def test_importing_every_module_patches_nothing() -> None:
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True)

    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.splitlines()[-1]) == []
