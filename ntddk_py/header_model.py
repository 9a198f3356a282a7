"""Read include/ntddk.h into a model: typedefs, records, enums, prototypes, macros.

This module owns the only reading of the header. It runs the C preprocessor
and pycparser for the declarations, and the C compiler itself for the value of
every enumerator and #define'd integer constant, because pycparser never sees
macros and only the compiler knows what an expression like
``((NTSTATUS)0xC0000022)`` is worth. It knows nothing about how the model is
rendered (see ``generate``) or used.

"The header" is ntddk.h with the headers of its folder it includes (``headers``):
sdkddkver.h, the annotation headers, wdm.h. The preprocessor follows the includes
for the declarations; the macros are read from every one of those files, and the
digest the bindings record covers them all.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pycparser import c_ast, c_generator, c_parser

from . import resources

REPO = Path(__file__).resolve().parents[1]
HEADER = resources.header()
BINDGEN_DEFINE = "__CMHOOK_BINDGEN__"

# C type keywords that name integer types; anything else in a macro's
# expansion (void, pointers, function calls) makes it "not an integer constant".
_INT_KEYWORDS = {"char", "short", "int", "long", "signed", "unsigned"}
_TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<op><<|>>|[-+~!*/%&|^()<>?:]))"
)
_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(\()?(.*)$")
_LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


@dataclass
class Field:
    """One member of a record as C names it; anonymous members are flattened."""

    name: str
    ctype: str  # the type as the header spells it (PVOID, WCHAR[1], struct)


@dataclass
class Record:
    """A struct or union: the typedef name it is known by and its members."""

    name: str
    tag: str | None
    kind: str  # "struct" or "union"
    fields: list[Field]


@dataclass
class Constant:
    """An object-like integer macro with the value and type the compiler gives it."""

    name: str
    value: int
    signed: bool
    size: int


@dataclass
class HeaderModel:
    """Everything the bindings and the ABI tests need to know about the header."""

    header_sha256: str
    ast: c_ast.FileAST
    typedef_names: list[str] = field(default_factory=list)
    records: dict[str, Record] = field(default_factory=dict)
    enums: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    functions: list[str] = field(default_factory=list)
    # routine -> [(parameter, type as the header spells it)], in order; "..." for a variadic tail
    prototypes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    constants: dict[str, Constant] = field(default_factory=dict)


def compiler() -> str:
    """The C compiler used to evaluate the header: $CC, else gcc."""
    return os.environ.get("CC", "gcc")


def preprocess(header: Path = HEADER, cc: str | None = None) -> str:
    """The header as pycparser must see it: macros expanded, bindgen branch taken."""
    out = subprocess.run(
        [cc or compiler(), "-E", "-P", f"-D{BINDGEN_DEFINE}", "-x", "c", str(header)],
        check=True, capture_output=True, text=True,
    )
    return out.stdout


def _names(node: c_ast.Node) -> list[str]:
    return node.names if isinstance(node, c_ast.IdentifierType) else []


def _spelling(node: c_ast.Node) -> str:
    inner = node.type if isinstance(node, c_ast.TypeDecl) else None
    if isinstance(inner, (c_ast.Struct, c_ast.Union)) and inner.decls is not None:
        return "struct" if isinstance(inner, c_ast.Struct) else "union"
    return c_generator.CGenerator()._generate_type(node, emit_declname=False)


def _record_fields(decls: list[c_ast.Decl] | None) -> list[Field]:
    fields: list[Field] = []
    for decl in decls or []:
        if decl.name is None and isinstance(decl.type, (c_ast.Struct, c_ast.Union)):
            fields.extend(_record_fields(decl.type.decls))
        else:
            fields.append(Field(decl.name, _spelling(decl.type)))
    return fields


def _collect(model: HeaderModel) -> None:
    for node in model.ast.ext:
        if isinstance(node, c_ast.Typedef):
            model.typedef_names.append(node.name)
            target = node.type.type if isinstance(node.type, c_ast.TypeDecl) else None
            if isinstance(target, (c_ast.Struct, c_ast.Union)) and target.decls is not None:
                kind = "struct" if isinstance(target, c_ast.Struct) else "union"
                model.records[node.name] = Record(node.name, target.name, kind, _record_fields(target.decls))
            elif isinstance(target, c_ast.Enum) and target.values is not None:
                model.enums.setdefault(node.name, [(e.name, 0) for e in target.values.enumerators])
        elif isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl):
            model.functions.append(node.name)
            model.prototypes[node.name] = _parameters(node.type)


def _parameters(function: c_ast.FuncDecl) -> list[tuple[str, str]]:
    params = function.args.params if function.args else []
    named = [p for p in params if isinstance(p, c_ast.Decl) and p.name]
    spelled = [(p.name, _spelling(p.type)) for p in named]
    return spelled + [("...", "...")] if any(isinstance(p, c_ast.EllipsisParam) for p in params) else spelled


def integer_typedefs(model: HeaderModel) -> set[str]:
    """Typedef names that resolve to an integer type (usable in a constant's cast)."""
    found: set[str] = set()
    for node in model.ast.ext:
        if isinstance(node, c_ast.Typedef) and isinstance(node.type, c_ast.TypeDecl):
            names = _names(node.type.type)
            if names and all(n in _INT_KEYWORDS or n in found for n in names):
                found.add(node.name)
            elif isinstance(node.type.type, c_ast.Enum):
                found.add(node.name)
    return found


def headers(header: Path = HEADER) -> list[Path]:
    """The header and every header beside it that it includes (``#include "x.h"``), directly or
    through another, each once, in the order first reached (the header first)."""
    seen: dict[Path, None] = {}
    pending = [header.resolve()]
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen[path] = None
        for name in _LOCAL_INCLUDE.findall(path.read_text()):
            candidate = (path.parent / name).resolve()
            if candidate.is_file() and candidate not in seen:
                pending.append(candidate)
    return list(seen)


def digest(header: Path = HEADER) -> str:
    """The SHA-256 of the header and of every header it includes, names and contents."""
    hashed = hashlib.sha256()
    for path in headers(header):
        hashed.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return hashed.hexdigest()


def macro_definitions(header: Path = HEADER) -> list[tuple[str, bool]]:
    """(name, is_function_like) for every public #define of the header and the headers it
    includes, in header order (the header's own first)."""
    seen: dict[str, bool] = {}
    for path in headers(header):
        for line in path.read_text().splitlines():
            m = _DEFINE.match(line)
            if m and not m.group(1).startswith("_"):
                seen.setdefault(m.group(1), m.group(2) is not None)
    return list(seen.items())


def _expansions(names: list[str], header: Path, cc: str) -> dict[str, str]:
    """What each macro expands to, as the compiler's preprocessor sees it."""
    body = f'#include "{header}"\n' + "".join(f'"@@{n}" {n}\n' for n in names)
    out = subprocess.run([cc, "-E", "-P", "-x", "c", "-"], input=body, check=True,
                         capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        m = re.match(r'"@@(\w+)" ?(.*)$', line)
        if m:
            result[m.group(1)] = m.group(2).strip()
    return result


def _is_integer_expression(text: str, allowed_ids: set[str]) -> bool:
    pos, tokens = 0, 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return False
        ident = m.group("id")
        if ident and ident not in allowed_ids and ident not in _INT_KEYWORDS:
            return False
        pos, tokens = m.end(), tokens + 1
    return tokens > 0


def _evaluate(header: Path, cc: str, exprs: list[str]) -> list[tuple[bool, int, int]]:
    """Compile and run one program printing (signed, size, value) per expression."""
    lines = [f'#include "{header}"', "#include <stdio.h>",
             "#define CMHOOK_SIGNED(x) ((__typeof__(x))-1 < (__typeof__(x))0)",
             "int main(void) {"]
    for expr in exprs:
        lines.append(f'  printf("%d %zu %llu\\n", (int)CMHOOK_SIGNED({expr}), sizeof({expr}), '
                     f"(unsigned long long)({expr}));")
    lines += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "eval.c", Path(tmp) / "eval"
        src.write_text("\n".join(lines) + "\n")
        subprocess.run([cc, "-w", "-o", str(exe), str(src)], check=True, capture_output=True, text=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    values = []
    for line in out.splitlines():
        signed, size, raw = line.split()
        value, bits = int(raw), int(size) * 8
        value &= (1 << bits) - 1
        if signed == "1" and value >= 1 << (bits - 1):
            value -= 1 << bits
        values.append((signed == "1", int(size), value))
    return values


def load(header: Path = HEADER, cc: str | None = None) -> HeaderModel:
    """Parse the header and ask the compiler for every enumerator's and constant's value."""
    cc = cc or compiler()
    model = HeaderModel(
        header_sha256=digest(header),
        ast=c_parser.CParser().parse(preprocess(header, cc), filename=str(header.name)),
    )
    _collect(model)
    enumerators = [name for members in model.enums.values() for name, _ in members]
    ints = integer_typedefs(model)
    candidates = [n for n, fn_like in macro_definitions(header) if not fn_like]
    expansions = _expansions(candidates, header, cc)
    allowed = ints | set(enumerators)
    consts = [n for n in candidates
              if expansions.get(n, n) != n and _is_integer_expression(expansions[n], allowed)]
    values = _evaluate(header, cc, enumerators + consts)
    by_name = dict(zip(enumerators + consts, values, strict=True))
    for enum, members in model.enums.items():
        model.enums[enum] = [(name, by_name[name][2]) for name, _ in members]
    for name in consts:
        signed, size, value = by_name[name]
        model.constants[name] = Constant(name, value, signed, size)
    return model


def without_repeated_bodies(ast: c_ast.FileAST) -> list[c_ast.Node]:
    """Copies of the declarations with each struct/union/enum body kept at its first use.

    pycparser attaches the body of ``typedef struct _X {...} X, *PX;`` to both
    typedefs; C allows it once, so later copies become references by tag.
    Function definitions (inline helpers) are dropped: bindings declare, never define.
    """
    seen: set[int] = set()
    nodes = []
    for node in ast.ext:
        if isinstance(node, c_ast.FuncDef):
            continue
        clone = copy.deepcopy(node)
        _strip_seen_bodies(node, clone, seen)
        nodes.append(clone)
    return nodes


def _strip_seen_bodies(orig: c_ast.Node, clone: c_ast.Node, seen: set[int]) -> None:
    """Walk an original and its copy together; in the copy, drop bodies already emitted."""
    for (_, o_child), (_, c_child) in zip(orig.children(), clone.children(), strict=True):
        body = None
        if isinstance(o_child, (c_ast.Struct, c_ast.Union)) and o_child.decls is not None:
            body = "decls"
        elif isinstance(o_child, c_ast.Enum) and o_child.values is not None:
            body = "values"
        if body:
            if id(o_child) in seen:
                setattr(c_child, body, None)
                continue
            seen.add(id(o_child))
        _strip_seen_bodies(o_child, c_child, seen)
