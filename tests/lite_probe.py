"""Run a generated xlwings Lite main.py in a fresh Python and print what it answers, as JSON.

Used by tests/test_lite.py in a subprocess, because the generated main.py drops any xl_negcoke
already imported (its own copy must answer) and xlwings picks its decorators when imported.
Reads a JSON request on stdin:

- `main`: the path of main.py; `cases`: [[function name, [arguments]], ...];
- `mode`: "plain" calls each function with the arguments as given (the no-op decorators xlwings
  has outside Windows and Lite); "officejs" sends each case through
  `xlwings.pro.udfs_officejs.custom_functions_call`, the arguments being Office.js values
  (2-D matrices, None for an omitted argument), and also returns `custom_functions_meta` of
  main.py and of xl_negcoke.udfs (the classic module, imported first);
- `block`: packages made unimportable before main.py loads (sys.modules[name] = None).

The officejs mode needs XLWINGS_ON_SERVER=true and XLWINGS_LICENSE_KEY=noncommercial in the
environment: the test sets them for this subprocess only.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys


def load(path: str):
    spec = importlib.util.spec_from_file_location("main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    request = json.load(sys.stdin)
    for name in request.get("block", ()):
        sys.modules[name] = None  # importing it now raises ImportError
    out: dict = {}
    if request["mode"] == "officejs":
        import xlwings
        from xlwings.pro.udfs_officejs import custom_functions_call, custom_functions_meta

        import xl_negcoke.udfs as classic

        out["classic_meta"] = custom_functions_meta(classic)
        module = load(request["main"])
        out["meta"] = custom_functions_meta(module)
        results = []
        for name, args in request["cases"]:
            data = {"func_name": name, "args": args, "version": xlwings.__version__,
                    "client": "Office.js", "runtime": "1.4", "culture_info_name": "en-US",
                    "date_format": "m/d/yyyy"}
            results.append(asyncio.run(custom_functions_call(data, module)))
        out["results"] = results
    else:
        module = load(request["main"])
        out["results"] = [getattr(module, name)(*args) for name, args in request["cases"]]
    udfs = getattr(module, "_UDFS", None)
    out["udfs_file"] = getattr(udfs, "__file__", None)
    out["unavailable_text"] = getattr(udfs, "text", None)
    out["modules"] = {name: getattr(mod, "__file__", None) for name, mod in sys.modules.items()
                      if mod is not None and name.split(".")[0] == "xl_negcoke"}
    out["loaded"] = sorted({name.split(".")[0] for name, mod in sys.modules.items()
                            if mod is not None})
    json.dump(out, sys.stdout, default=float)


if __name__ == "__main__":
    main()
