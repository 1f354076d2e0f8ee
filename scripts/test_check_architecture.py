"""Tests of scripts/check_architecture.py: each rule fires on a small synthetic package, and the repository obeys
docs/ARCHITECTURE.md."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_architecture as arch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

RULES = """# Architecture

## Who may import whom

```dependencies
Core: -
Engine: Core CMath
my-server: Core Engine
CGRPCBridge: -
TestSupport: -
```
"""


def target(name, kind="regular", dependencies=(), path=None, products=()):
    """A target as `swift package dump-package` writes it."""
    entry = {
        "name": name, "type": kind, "path": path, "exclude": [], "sources": None, "resources": [],
        "dependencies": [{"byName": [d, None]} for d in dependencies]
        + [{"product": [p, "some-package", None, None]} for p in products],
    }
    return entry


CLEAN_DUMP = {
    "name": "Synthetic",
    "targets": [
        target("CMath", "system", path="Sources/System/CMath"),
        target("Core"),
        target("Engine", dependencies=["Core", "CMath"]),
        target("CGRPCBridge"),
        target("my-server", "executable", dependencies=["Core", "Engine"], products=["Logging"]),
        target("TestSupport", path="Tests/TestSupport"),
        target("EngineTests", "test", dependencies=["Engine", "Core", "TestSupport"]),
        target("WholeTests", "test", dependencies=["Engine", "CGRPCBridge"]),
    ],
}

CLEAN_FILES = {
    "Sources/Core/Core.swift": "public struct Core {}\n",
    "Sources/Engine/Engine.swift": "import CMath\nimport Core\n\npublic struct Engine {}\n",
    "Sources/my-server/main.swift": (
        "// import Secret (a comment is no import)\n"
        "import Core\n"
        "/* import Hidden\n   import Hidden */\n"
        '@testable import Engine\nimport Logging\nlet text = "import Nothing"\n'
    ),
    "Sources/CGRPCBridge/bridge.cpp": '#include "bridge.h"\n#include <grpcpp/grpcpp.h>\n',
    "Sources/CGRPCBridge/include/bridge.h": "void rg_start(void);\n",
    "Tests/TestSupport/Helpers.swift": "import Foundation\npublic func helper() {}\n",
    "Tests/EngineTests/EngineTests.swift": "import Testing\nimport TestSupport\n@testable import Engine\nimport Core\n",
    "Tests/WholeTests/WholeTests.swift": "import Engine\nimport CGRPCBridge\n",
}


def write_package(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run(tmp_path, dump=None, files=None, rules=RULES):
    """The report for the clean synthetic package, changed by `dump` (a function editing a copy) and `files`."""
    package = copy.deepcopy(CLEAN_DUMP)
    if dump:
        dump(package)
    write_package(tmp_path, {**CLEAN_FILES, **(files or {})})
    return arch.check(package, rules, tmp_path)


def by_rule(report, rule: str) -> list[str]:
    return [v.message for v in report.violations if v.rule.startswith(rule + " ")]


def find(package, name):
    return next(t for t in package["targets"] if t["name"] == name)


def test_clean_package_has_no_violations(tmp_path):
    report = run(tmp_path)
    assert [str(v) for v in report.violations] == []
    assert report.targets == 8
    # Engine 2, my-server 3 (comments and strings skipped), TestSupport 1, EngineTests 4, WholeTests 2.
    assert report.imports == 12
    assert report.summary() == "architecture: 8 targets, 12 imports checked, 0 violations"


def test_forbidden_dependency(tmp_path):
    def core_uses_engine(package):
        find(package, "Core")["dependencies"].append({"byName": ["Engine", None]})

    report = run(tmp_path, core_uses_engine, {"Sources/Core/Core.swift": "import Engine\n"})
    assert by_rule(report, "3") == [
        "Core depends on Engine, which docs/ARCHITECTURE.md does not allow (allowed: nothing local): remove it from "
        "Package.swift and move the code that needs it to a layer that may use it"
    ]
    assert len(report.violations) == 1


def test_dependency_through_target_form_is_local(tmp_path):
    def core_uses_engine(package):
        find(package, "Core")["dependencies"].append({"target": ["Engine", None]})

    report = run(tmp_path, core_uses_engine, {"Sources/Core/Core.swift": "import Engine\n"})
    assert [v.rule for v in report.violations] == ["3 allowed"]


def test_external_products_are_not_checked(tmp_path):
    def core_uses_a_product(package):
        find(package, "Core")["dependencies"].append({"product": ["SwiftProtobuf", "swift-protobuf", None, None]})

    assert run(tmp_path, core_uses_a_product).violations == []


def test_test_target_may_use_its_subject_transitively_and_test_support(tmp_path):
    def engine_tests_use_cmath(package):
        find(package, "EngineTests")["dependencies"].append({"byName": ["CMath", None]})

    files = {"Tests/EngineTests/Math.swift": "import CMath\n"}
    assert run(tmp_path, engine_tests_use_cmath, files).violations == []


def test_test_target_may_not_use_more_than_its_subject(tmp_path):
    def engine_tests_use_the_server(package):
        find(package, "EngineTests")["dependencies"].append({"byName": ["my-server", None]})

    files = {"Tests/EngineTests/Server.swift": "@testable import my_server\n"}
    report = run(tmp_path, engine_tests_use_the_server, files)
    assert [v.rule for v in report.violations] == ["2 tests"]
    assert by_rule(report, "2")[0].startswith("EngineTests depends on my-server, which docs/ARCHITECTURE.md does not allow")


def test_other_test_targets_may_not_use_executables(tmp_path):
    def whole_tests_use_the_server(package):
        find(package, "WholeTests")["dependencies"].append({"byName": ["my-server", None]})

    files = {"Tests/WholeTests/Server.swift": "@testable import my_server\n"}
    report = run(tmp_path, whole_tests_use_the_server, files)
    assert [v.rule for v in report.violations] == ["2 tests"]


@pytest.mark.parametrize("declaration", [
    "import CGRPCBridge",
    "@testable import CGRPCBridge",
    "@_exported import CGRPCBridge",
    "@preconcurrency import CGRPCBridge",
    "@_spi(Private) import CGRPCBridge",
    "public import CGRPCBridge",
    "internal import CGRPCBridge",
    "@_implementationOnly import CGRPCBridge",
    "import struct CGRPCBridge.Handle",
    "import func CGRPCBridge.rg_start",
    "  import CGRPCBridge.Submodule // indented, dotted",
])
def test_undeclared_import(tmp_path, declaration):
    files = {"Sources/my-server/Bridge.swift": f"import Foundation\n{declaration}\n"}
    report = run(tmp_path, files=files)
    assert by_rule(report, "4") == [
        "Sources/my-server/Bridge.swift:2: my-server imports CGRPCBridge, which it does not declare; docs/ARCHITECTURE.md "
        "does not allow my-server to use CGRPCBridge: remove the import and reach it through a target my-server may use"
    ]
    assert len(report.violations) == 1


def test_undeclared_but_allowed_import_says_to_declare_it(tmp_path):
    def server_declares_only_engine(package):
        find(package, "my-server")["dependencies"] = [{"byName": ["Engine", None]}]

    report = run(tmp_path, server_declares_only_engine)
    assert by_rule(report, "4") == [
        "Sources/my-server/main.swift:2: my-server imports Core, which it does not declare; "
        "declare \"Core\" in my-server's dependencies in Package.swift"
    ]


def test_imports_in_comments_and_strings_are_not_imports(tmp_path):
    files = {"Sources/Core/Notes.swift": (
        "/* outer /* nested */\nimport Engine\n*/\n"
        "let doc = \"\"\"\nimport Engine\n\"\"\"\n"
        "// import Engine\n"
    )}
    assert run(tmp_path, files=files).violations == []


def test_unused_dependency(tmp_path):
    files = {"Sources/my-server/main.swift": "import Core\n"}
    report = run(tmp_path, files=files)
    assert by_rule(report, "5") == [
        "my-server depends on Engine but never imports it: remove \"Engine\" from its dependencies in Package.swift"
    ]
    assert len(report.violations) == 1


def test_targets_without_swift_files_skip_import_rules(tmp_path):
    def bridge_depends_on_core(package):
        find(package, "CGRPCBridge")["dependencies"].append({"byName": ["Core", None]})
        find(package, "Engine")["dependencies"].append({"byName": ["CGRPCBridge", None]})

    report = run(tmp_path, bridge_depends_on_core, rules=RULES.replace("CGRPCBridge: -", "CGRPCBridge: Core")
                 .replace("Engine: Core CMath", "Engine: Core CMath CGRPCBridge"))
    # CGRPCBridge (C++) is never "unused"; Engine, a Swift target, must import what it declares.
    assert [str(v) for v in report.violations] == [
        "[5 used] Engine depends on CGRPCBridge but never imports it: remove \"CGRPCBridge\" from its dependencies "
        "in Package.swift"
    ]


def test_unlisted_target(tmp_path):
    def add_a_target(package):
        package["targets"].append(target("Extra", dependencies=["Core"]))

    report = run(tmp_path, add_a_target, {"Sources/Extra/Extra.swift": "import Core\n"})
    assert by_rule(report, "1") == [
        "Extra is not in the dependencies block: add it to docs/ARCHITECTURE.md (`Extra: Core` if its current "
        "dependencies are what it should use)"
    ]
    assert len(report.violations) == 1


def test_system_libraries_need_no_line(tmp_path):
    def add_a_system_library(package):
        package["targets"].append(target("CZlib", "system", path="Sources/System/CZlib"))

    assert run(tmp_path, add_a_system_library).violations == []


def test_line_for_a_target_the_package_lacks(tmp_path):
    report = run(tmp_path, rules=RULES.replace("TestSupport: -", "TestSupport: -\nGhost: Core"))
    assert by_rule(report, "1") == [
        "docs/ARCHITECTURE.md lists Ghost, which Package.swift does not declare: remove its line, or declare the target"
    ]


@pytest.mark.parametrize("include", [
    '#include "rosetta/v1/embeddings.pb.h"',
    "#include <rosetta/v1/embeddings.grpc.pb.h>",
    '  #  include "common.pb.h"',
])
def test_bridge_includes_generated_protobuf_header(tmp_path, include):
    files = {"Sources/CGRPCBridge/server.cpp": f"#include <string>\n{include}\n"}
    report = run(tmp_path, files=files)
    assert len(report.violations) == 1
    assert report.violations[0].rule == "6 bridge"
    assert report.violations[0].message.startswith("Sources/CGRPCBridge/server.cpp:2 includes ")


def test_bridge_may_include_libprotobufs_own_headers(tmp_path):
    files = {"Sources/CGRPCBridge/descriptors.cpp": "#include <google/protobuf/descriptor.pb.h>\n"}
    assert run(tmp_path, files=files).violations == []


def test_excluded_bridge_files_are_not_read(tmp_path):
    def exclude_generated(package):
        find(package, "CGRPCBridge")["exclude"] = ["generated"]

    files = {"Sources/CGRPCBridge/generated/x.pb.cc": '#include "x.pb.h"\n'}
    assert run(tmp_path, exclude_generated, files).violations == []


@pytest.mark.parametrize("markdown, message", [
    ("no block here", "exactly one ```dependencies block, found 0"),
    ("```dependencies\nCore -\n```\n", "line 1: expected `Target: Dependency ...`"),
    ("```dependencies\nCore: -\nCore: Engine\n```\n", "line 2: Core is listed twice"),
    ("```dependencies\nCore: - Engine\n```\n", "line 1: `-` must stand alone"),
])
def test_malformed_block(markdown, message):
    with pytest.raises(arch.RulesError, match=re.escape(message)):
        arch.parse_rules(markdown)


def test_main_exit_codes_and_output(tmp_path, capsys):
    write_package(tmp_path, {**CLEAN_FILES, "docs/ARCHITECTURE.md": RULES})
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(CLEAN_DUMP))
    assert arch.main(["--root", str(tmp_path), "--dump", str(dump)]) == 0
    assert capsys.readouterr().out == "architecture: 8 targets, 12 imports checked, 0 violations\n"

    (tmp_path / "Sources/my-server/main.swift").write_text("import Core\n")
    assert arch.main(["--root", str(tmp_path), "--dump", str(dump)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[5 used] my-server depends on Engine but never imports it")
    assert lines[-1] == "architecture: 8 targets, 10 imports checked, 1 violations"


@pytest.mark.skipif(shutil.which("swift") is None, reason="needs the swift toolchain (swift package dump-package)")
def test_repository_obeys_architecture(capsys):
    status = arch.main(["--root", str(REPO)])
    output = capsys.readouterr().out
    assert status == 0, output
