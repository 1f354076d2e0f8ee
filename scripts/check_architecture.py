#!/usr/bin/env python3
"""Checks Package.swift and the sources against the "who may import whom" block of docs/ARCHITECTURE.md.

The block is a fenced code block with the info string `dependencies`, one line per target:

    Target: AllowedLocalDependency ...     (`-` for none)

Rules (each violation names its rule and how to fix it):
  1. listed      every target of the package has a line, except system libraries (which cannot depend on
                 anything) and test targets (rule 2); every line names a target of the package.
  2. tests       `<M>Tests` may depend on M, on everything M may depend on (transitively) and on TestSupport;
                 any other test target (VisionTests, AudioTests) on any non-executable target and TestSupport.
  3. allowed     a target's declared local dependencies are among those its line allows.
  4. declared    every `import X` of a local target X (any form: @testable, @_exported, public, `import struct
                 X.Y`, ...) names a declared dependency: SwiftPM would often compile a transitive import; we do not.
  5. used        every declared local dependency is imported by at least one Swift file of the target.
                 Rules 4 and 5 skip targets with no Swift files (C/C++ and system library targets).
  6. bridge      no C/C++ file of CGRPCBridge includes a generated protobuf header (`*.pb.h`) of this project's
                 messages: the bridge knows bytes and method names only. libprotobuf's own
                 (`google/protobuf/*.pb.h`, e.g. descriptor.pb.h to read a descriptor set) are generic.

Local dependencies are `byName`/`target` dependencies naming a target of this package; products of other
packages (SwiftProtobuf, Logging, ...) are not checked. Targets Package.swift declares only under ROSETTA_FUZZ=1
are not seen: the dump runs without it.

Usage: scripts/check_architecture.py [--root DIR] [--dump FILE]   (exit 0: no violations; 1: violations)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

RULES_FILE = "docs/ARCHITECTURE.md"
TEST_SUPPORT = "TestSupport"
BRIDGE = "CGRPCBridge"
C_EXTENSIONS = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc", ".m", ".mm"}

_BLOCK = re.compile(r"^```dependencies[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# An import declaration after comments and strings are blanked: attributes and modifiers in any order, an
# optional declaration kind, then the module (the first component of a dotted path).
_IMPORT = re.compile(
    r"^\s*(?:(?:@\w+(?:\([^)]*\))?|public|package|internal|fileprivate|private|open)\s+)*import\s+"
    r"(?:(?:typealias|struct|class|enum|protocol|let|var|func|actor|macro)\s+)?([A-Za-z_]\w*)"
)
_PB_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]*\.pb\.h)[">]')


class RulesError(Exception):
    """The dependencies block is missing or malformed."""


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # "regular", "executable", "test", "system", ...
    directory: Path
    dependencies: tuple[str, ...]  # local ones only, in declaration order
    sources: tuple[str, ...] = ()  # `sources:` of Package.swift, relative to directory (empty: all)
    exclude: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return c99name(self.name)


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass
class Report:
    targets: int = 0
    imports: int = 0
    violations: list[Violation] = field(default_factory=list)

    def summary(self) -> str:
        return f"architecture: {self.targets} targets, {self.imports} imports checked, {len(self.violations)} violations"


def c99name(name: str) -> str:
    """The Swift module name SwiftPM derives from a target name (rosetta-server -> rosetta_server)."""
    module = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + module if module[:1].isdigit() else module


def parse_rules(markdown: str) -> dict[str, frozenset[str]]:
    """The `dependencies` block of ARCHITECTURE.md as {target: allowed local dependencies}."""
    blocks = _BLOCK.findall(markdown)
    if len(blocks) != 1:
        raise RulesError(f"{RULES_FILE} must hold exactly one ```dependencies block, found {len(blocks)}")
    rules: dict[str, frozenset[str]] = {}
    for number, line in enumerate(blocks[0].splitlines(), 1):
        if not line.strip():
            continue
        name, colon, rest = line.partition(":")
        name = name.strip()
        if not colon or not name or " " in name:
            raise RulesError(f"dependencies block line {number}: expected `Target: Dependency ...` or `Target: -`, got {line!r}")
        if name in rules:
            raise RulesError(f"dependencies block line {number}: {name} is listed twice")
        allowed = rest.split()
        rules[name] = frozenset() if allowed == ["-"] else frozenset(allowed)
        if "-" in rules[name]:
            raise RulesError(f"dependencies block line {number}: `-` must stand alone")
    return rules


def targets_from_dump(dump: dict, root: Path) -> list[Target]:
    """The targets of `swift package dump-package` output, with their local dependencies and directories."""
    names = {t["name"] for t in dump["targets"]}
    targets = []
    for t in dump["targets"]:
        local = []
        for dependency in t.get("dependencies", []):
            kind, values = next(iter(dependency.items()))
            # byName: [name, condition]; target: [name, condition]; product: [name, package, ...] (external).
            if kind in ("byName", "target") and values[0] in names and values[0] not in local:
                local.append(values[0])
        directory = t.get("path") or ("Tests/" if t["type"] == "test" else "Sources/") + t["name"]
        targets.append(Target(t["name"], t["type"], root / directory, tuple(local),
                              tuple(t.get("sources") or ()), tuple(t.get("exclude") or ())))
    return targets


def source_files(target: Target, suffixes: set[str]) -> list[Path]:
    """The target's files with one of `suffixes`, honouring `sources:` and `exclude:`, in a stable order."""
    roots = [target.directory / s for s in target.sources] or [target.directory]
    excluded = [target.directory / e for e in target.exclude]
    files = []
    for base in roots:
        candidates = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in candidates:
            if path.suffix in suffixes and not any(path == e or e in path.parents for e in excluded):
                files.append(path)
    return files


def code_lines(text: str) -> list[str]:
    """The lines of Swift source with comments and string literals blanked (so `import` in them is not seen).

    Handles nested /* */ comments, // comments, "..." and multi-line \"\"\" strings; line numbers are kept.
    """
    out: list[str] = []
    depth = 0  # block comment nesting
    in_multiline = False
    for line in text.split("\n"):
        kept = []
        i = 0
        in_string = False
        while i < len(line):
            two, three = line[i:i + 2], line[i:i + 3]
            if depth:
                if two == "/*":
                    depth, i = depth + 1, i + 2
                elif two == "*/":
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            elif in_multiline:
                if three == '"""':
                    in_multiline, i = False, i + 3
                else:
                    i += 2 if line[i] == "\\" else 1
            elif in_string:
                if line[i] == "\\":
                    i += 2
                elif line[i] == '"':
                    in_string, i = False, i + 1
                else:
                    i += 1
            elif two == "//":
                break
            elif two == "/*":
                depth, i = 1, i + 2
            elif three == '"""':
                in_multiline, i = True, i + 3
            elif line[i] == '"':
                in_string, i = True, i + 1
            else:
                kept.append(line[i])
                i += 1
        out.append("".join(kept))
    return out


def swift_imports(text: str) -> list[tuple[int, str]]:
    """(line number, module) of each import declaration in Swift source."""
    found = []
    for number, line in enumerate(code_lines(text), 1):
        match = _IMPORT.match(line)
        if match:
            found.append((number, match.group(1)))
    return found


def allowed_for(target: Target, rules: dict[str, frozenset[str]], by_name: dict[str, Target]) -> frozenset[str] | None:
    """What `target` may depend on; None when it is unlisted (a rule 1 violation)."""
    if target.kind != "test":
        return rules.get(target.name)
    subject = target.name.removesuffix("Tests")
    if target.name.endswith("Tests") and subject in rules:
        allowed, pending = {subject}, [subject]
        while pending:  # everything the subject may use, transitively
            for dependency in rules.get(pending.pop(), ()):
                if dependency not in allowed:
                    allowed.add(dependency)
                    pending.append(dependency)
        return frozenset(allowed | {TEST_SUPPORT})
    return frozenset({t.name for t in by_name.values() if t.kind not in ("executable", "test")} | {TEST_SUPPORT})


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check(dump: dict, rules_markdown: str, root: Path) -> Report:
    """Every violation of rules 1-6 by the package `dump` describes, with its sources under `root`."""
    rules = parse_rules(rules_markdown)
    targets = targets_from_dump(dump, root)
    by_name = {t.name: t for t in targets}
    by_module = {t.module: t.name for t in targets}
    report = Report(targets=len(targets))
    add = report.violations.append

    for name in sorted(set(rules) - set(by_name)):
        add(Violation("1 listed", f"{RULES_FILE} lists {name}, which Package.swift does not declare: "
                                  f"remove its line, or declare the target"))

    for target in targets:
        if target.kind == "system":
            continue
        allowed = allowed_for(target, rules, by_name)
        if allowed is None:
            add(Violation("1 listed", f"{target.name} is not in the dependencies block: add it to {RULES_FILE} "
                                      f"(`{target.name}: {' '.join(target.dependencies) or '-'}` if its current "
                                      f"dependencies are what it should use)"))
            allowed = frozenset(target.dependencies)  # judge its imports against what it declares
        rule = "2 tests" if target.kind == "test" else "3 allowed"
        for dependency in target.dependencies:
            if dependency not in allowed:
                add(Violation(rule, f"{target.name} depends on {dependency}, which {RULES_FILE} does not allow "
                                    f"(allowed: {' '.join(sorted(allowed)) or 'nothing local'}): remove it from "
                                    f"Package.swift and move the code that needs it to a layer that may use it"))

        files = source_files(target, {".swift"})
        if not files:
            continue  # C/C++ target: rules 4 and 5 do not apply
        imported: set[str] = set()
        for path in files:
            for line, module in swift_imports(path.read_text(encoding="utf-8", errors="replace")):
                report.imports += 1
                dependency = by_module.get(module)
                if dependency is None or dependency == target.name:
                    continue  # an external module, or the target itself
                imported.add(dependency)
                if dependency in target.dependencies:
                    continue
                where = f"{relative(path, root)}:{line}"
                if dependency in allowed:
                    fix = f"declare \"{dependency}\" in {target.name}'s dependencies in Package.swift"
                else:
                    fix = (f"{RULES_FILE} does not allow {target.name} to use {dependency}: remove the import and "
                           f"reach it through a target {target.name} may use")
                add(Violation("4 declared", f"{where}: {target.name} imports {dependency}, which it does not declare; {fix}"))
        for dependency in target.dependencies:
            if dependency not in imported:
                add(Violation("5 used", f"{target.name} depends on {dependency} but never imports it: remove "
                                        f"\"{dependency}\" from its dependencies in Package.swift"))

    bridge = by_name.get(BRIDGE)
    if bridge is not None:
        for path in source_files(bridge, C_EXTENSIONS):
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                match = _PB_INCLUDE.match(line)
                if match and not match.group(1).startswith("google/protobuf/"):
                    add(Violation("6 bridge", f"{relative(path, root)}:{number} includes {match.group(1)}: the bridge "
                                              f"passes serialized bytes and method names only; decode in Swift "
                                              f"(RosettaAPI) and drop the generated C++ code"))
    return report


def dump_package(root: Path) -> dict:
    """`swift package dump-package` run at `root`, without ROSETTA_FUZZ (whose targets are not checked).

    A scratch folder of its own, so that it does not wait for a build holding the lock on .build.
    """
    environment = {k: v for k, v in os.environ.items() if k != "ROSETTA_FUZZ"}
    with tempfile.TemporaryDirectory(prefix="rosetta-architecture-") as scratch:
        result = subprocess.run(["swift", "package", "--scratch-path", scratch, "dump-package"], cwd=root,
                                env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"swift package dump-package failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root (default: this script's parent folder's parent)")
    parser.add_argument("--dump", type=Path, help="a saved `swift package dump-package` JSON instead of running it")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        dump = json.loads(args.dump.read_text()) if args.dump else dump_package(root)
        report = check(dump, (root / RULES_FILE).read_text(encoding="utf-8"), root)
    except (OSError, RulesError, RuntimeError, json.JSONDecodeError) as error:
        print(f"architecture: {error}", file=sys.stderr)
        return 2
    for violation in report.violations:
        print(violation)
    print(report.summary())
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
