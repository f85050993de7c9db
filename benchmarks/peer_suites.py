"""Pivot against the test suites of ioc-fanger and ioc-finder (run by hand, never by pytest).

    python benchmarks/peer_suites.py [--suite NAME] [--show N] [--keep DIR]

Downloads the sdists of ioc-fanger 5.1.1 and ioc-finder 9.4.1 (`pip download --no-deps
--no-binary :all:`) into a temporary directory, reads their own test cases from the unpacked
tests at run time (nothing of theirs is copied into this repository), turns each into an input
text and the indicators of Pivot's kinds it must yield, runs `extract_indicators` on the input
and prints precision, recall and F1 per suite and per kind, every miss and false positive, and
every case or expectation left out, with the reason.

How their tests are read. Test modules are parsed, never imported: each test function's
statements run one by one in a sandbox where `ioc_fanger.fang` / `find_iocs` (and ioc-finder's
`parse_*` helpers) are probes. A probe records its input; comparing its result records the
expectation (`fang(s) == "x"`; `iocs["domains"] == [...]`, `"x" in iocs["urls"]`,
`len(iocs["md5s"]) == 0`, `sorted(...)`, `iterables_have_same_items(...)`) and is always true,
so one assertion never hides the next. Statements the sandbox cannot evaluate (calls of their
internals, timing, logging, CLI runners) are skipped. Parametrised tests and simple fixtures are
expanded. ioc-finder's table of cases (tests/find_iocs_cases/) is imported as data. ioc-fanger's
sample_text_defanged.txt is one more case whose expected output is sample_text_fanged.txt.

Expectations, mapped to Pivot's canonical forms:

- ioc-fanger states the text `fang` must return. The indicators expected are those of that text,
  read token by token (split at white space, `<`, `>` and quotes; opening brackets, Markdown
  emphasis and sentence punctuation trimmed, a closing bracket only when unopened), each token
  taken whole if it is a valid URL (http, https, ftp), e-mail address, CIDR, IPv4, IPv6, hash
  or domain by Pivot's canonicaliser (`make_indicator`), a host with a path and no scheme being
  a URL with `http://` added. A token that is none of these expects nothing: their tests that
  leave a string unchanged expect nothing to be invented from it.
- ioc-finder states lists per type. `domains`, `ipv4s`, `ipv6s`, `ipv4_cidrs`/`ipv6_cidrs`
  (CIDR, host bits cleared), `urls`, `email_addresses` and `xmpp_addresses` (both e-mail to
  Pivot), `md5s`, `sha1s`, `sha256s` are Pivot's kinds; `urls_complete` is preferred over
  `urls` (which cuts a URL at its first comma) and `email_addresses` over
  `email_addresses_complete` (which keeps RFC 5322 comments and quotes). Values are made
  canonical: lower-case names, punycode, `http://` added to a scheme-less URL, CIDR host bits
  cleared; a value Pivot's canonicaliser refuses is kept lower-cased, so it counts as a miss.
- Pivot's convention that a URL's host, an address's domain and the address in a CIDR are not
  reported again unless they appear on their own (ioc-finder's `parse_domain_from_url`,
  `parse_domain_from_email_address`, `parse_address_from_cidr`, `parse_from_url_path` set to
  False): a domain or address ioc-finder takes from inside an expected URL, e-mail address or
  CIDR is expected only when some white-space token of the text holding no `/`, `@` or `:/`
  contains it.
- What counts as a false positive: a finding of a kind whose expectation is complete. ioc-fanger
  expectations and ioc-finder's table are complete for every kind; an asserted list
  (`== [...]`, `len(...) == 0`, or as many `in` checks as `len(...) ==` says) is complete for its
  type; findings of kinds a test says nothing about are listed as not judged.

Left out, each named when it applies (see CONVENTIONS and the report): kinds Pivot does not
have; the conventions Pivot refuses on purpose; ioc-finder options Pivot does not offer;
ioc-fanger's `defang` direction (display forms are a convention of each tool).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.extraction import Score
from enrichment.errors import InvalidInput
from enrichment.indicators import Kind, extract_indicators, make_indicator
from enrichment.indicators._names import looks_like_file

Pair = tuple[str, str]
PEERS = {"ioc-fanger": "ioc-fanger==5.1.1", "ioc-finder": "ioc-finder==9.4.1"}
KINDS = [k.value for k in Kind]

# Reasons a case or an expectation is left out, by name. Every one is printed with its cases.
CONVENTIONS = {
    "kind": "a kind Pivot does not have (ASN, CVE, coin address, registry key, file path, MAC, "
    "ssdeep, SHA-512, user agent, TLP label, ATT&CK id, tracker id, socket address)",
    "defang": "ioc-fanger's `defang` direction: display forms are each tool's own convention",
    "no expectation": "the test calls the function but states no result (timing, logging)",
    "not read": "the test calls nothing the sandbox probes (a CLI runner, a thread, a timer, "
    "the peer's internals, or assertions about something else)",
    "et": "`[et]`, `(et)`, `et)` read as `@`: `et` is French for `and`, not `at`; Pivot reads "
    "`[at] (at) [arroba]` and `AT` after a lower-case word",
    "glued AT": "`AT` glued between two words (`fooATbar.com`) is read as `@` by ioc-fanger; to "
    "Pivot it may be a name written in capitals, and reading it would turn the domain into "
    "a wrong address",
    "spaced @": "`foo @ bar.com` read as an address: in chat `@` between spaces is the word "
    "at (`hosted @ evil.com`), and reading it would turn the domain into a wrong address",
    "bare commas": "commas read as dots in a bare number list (`1,2,3,4`): a comma list of "
    "versions is no address in chat; bracketed `[,]` is still read",
    "leading zero": "an IPv4 octet with a leading zero: some tools read it as octal, so Pivot "
    "refuses the address rather than guess",
    "file name": "a bare name whose suffix is a common file extension (`abc.py`) is a file",
    "hex prefix": "`0x` before hex digits makes a number in code, not a hash",
    "rfc 5322": "an address written with a comment or a quoted local part (`a(b)@c`, "
    '`"a..b"@c`): Pivot reads the plain dot-atom form chat uses',
    "partial name": "a name that goes on with more labels or characters in the text: a part "
    "of it is never reported as a domain",
    "imphash": "a hash labelled as an import hash or authentihash is still an MD5 / SHA-256 to "
    "Pivot, which has no such kinds: those hash kinds are not judged there",
    "ascii mode": "ioc-finder's default reads only the ASCII tail of a Unicode name (a partial "
    "name); Pivot always reads Unicode names",
    "unspaced script": "a character of a script written without spaces ends a name "
    "(`example.com中`): Pivot splits them, ioc-finder's Unicode mode reads one word",
    "no scheme-less option": "`parse_urls_without_scheme=False`: Pivot always reads a host "
    "with a path as a URL, so URL findings are not judged there",
    "path": "a name inside a file path (`path/to/x.com/y`) is part of the path, not a host",
    "quote": "a quote ends a URL (chat quotes URLs: 'http://x'), so a URL going on past one is "
    "not judged",
    "pinned limitation": "the test pins what its own docstring calls a limitation of ioc-finder "
    "(a form it cannot read or must not half-read): findings there are not judged",
}
_PEER_KINDS = {
    "domains": "domain",
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "ipv4_cidrs": "cidr",
    "ipv6_cidrs": "cidr",
    "urls_complete": "url",
    "urls": "url",
    "email_addresses": "email",
    "email_addresses_complete": "email",
    "xmpp_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
}
# A finding is judged when, for each group, one of its ioc-finder types has a complete list.
_JUDGED_BY = {
    "domain": (("domains",),),
    "ipv4": (("ipv4s",),),
    "ipv6": (("ipv6s",),),
    "cidr4": (("ipv4_cidrs",),),
    "cidr6": (("ipv6_cidrs",),),
    "url": (("urls_complete", "urls"),),
    "email": (("email_addresses", "email_addresses_complete"), ("xmpp_addresses",)),
    "md5": (("md5s",),),
    "sha1": (("sha1s",),),
    "sha256": (("sha256s",),),
}


# --- getting their tests ---------------------------------------------------------------------


def download(into: Path) -> dict[str, Path]:
    """Each peer's unpacked tests/ folder, downloaded as an sdist unless already there."""
    if not list(into.glob("*.tar.gz")):
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*command, "-q", "-d", str(into), *PEERS.values()], check=True)
    for archive in into.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")
    return {name: next(into.glob(f"{name.replace('-', '_')}-*/tests")) for name in PEERS}


# --- a sandbox that runs their test statements against probes --------------------------------


@dataclass
class Call:
    """One call of the function under test, and what the test said about its result."""

    where: str
    text: str
    options: dict[str, Any]
    only: tuple[str, ...] | None = None  # the result types asked for; None: all
    outputs: list[str] = field(default_factory=list)  # ioc-fanger: what `fang` must return
    exact: dict[str, list[str]] = field(default_factory=dict)
    contains: dict[str, set[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    absent: dict[str, set[str]] = field(default_factory=dict)  # `x not in iocs[...]`
    defang: bool = False
    doc: str = ""  # the test's docstring


class _Probe:
    """What a probed call returns: every comparison records an expectation and is true."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, call: Call, key: str = "") -> None:
        self.call, self.key = call, key

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) and not self.key:
            self.call.outputs.append(other)
        elif isinstance(other, list | tuple | set):
            self.call.exact[self.key] = [str(v) for v in other]
        return True

    def __contains__(self, item: object) -> bool:
        self.call.contains.setdefault(self.key, set()).add(str(item))
        return True

    def __getitem__(self, item: object) -> Any:
        if isinstance(item, str) and not self.key:
            return _Probe(self.call, item)
        return _Item(self.call, self.key)

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class _Item:
    def __init__(self, call: Call, key: str) -> None:
        self.call, self.key = call, key

    def __eq__(self, other: object) -> bool:
        self.call.contains.setdefault(self.key, set()).add(str(other))
        return True

    __hash__ = None  # type: ignore[assignment]


class _Count:
    def __init__(self, call: Call, key: str) -> None:
        self.call, self.key = call, key

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            self.call.counts[self.key] = other
        return True

    __hash__ = None  # type: ignore[assignment]


def _len(value: Any) -> Any:
    return _Count(value.call, value.key) if isinstance(value, _Probe) else len(value)


def _sorted(value: Any, **options: Any) -> Any:
    return value if isinstance(value, _Probe) else sorted(value, **options)


def _same_items(first: Any, second: Any) -> bool:
    return _Probe.__eq__(first, list(second)) if isinstance(first, _Probe) else True


def _not_in(item: Any, container: Any) -> bool:
    if isinstance(container, _Probe):
        container.call.absent.setdefault(container.key, set()).add(str(item))
        return True
    return item not in container


class _NotIn(ast.NodeTransformer):
    """`a not in b` becomes `_not_in(a, b)`: a probe must tell it from `a in b`."""

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.NotIn):
            return node
        call = ast.Call(ast.Name("_not_in", ast.Load()), [node.left, node.comparators[0]], [])
        return ast.copy_location(call, node)


_BUILTINS = {
    "len": _len,
    "sorted": _sorted,
    "list": list,
    "set": set,
    "str": str,
    "range": range,
    "zip": zip,
    "enumerate": enumerate,
    "print": lambda *_args, **_kw: None,
    "_not_in": _not_in,
}


class Recorder:
    """The probes standing in for a peer's API, and every call they saw."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.where = self.doc = ""

    def call(self, text: object, options: dict[str, Any], only: tuple[str, ...] | None) -> Call:
        call = Call(self.where, str(text), options, only, doc=self.doc)
        self.calls.append(call)
        return call

    def fang(self, text: object, **options: Any) -> _Probe:
        return _Probe(self.call(text, options, None))

    def defang(self, text: object, **options: Any) -> _Probe:
        call = self.call(text, options, None)
        call.defang = True
        return _Probe(call)

    def find_iocs(self, text: object, **options: Any) -> _Probe:
        only = options.get("included_ioc_types")
        return _Probe(self.call(text, options, tuple(only) if only else None))

    def parser(self, key: str) -> Callable[..., _Probe]:
        """ioc-finder's `parse_<type>(text, **options)`: one result type."""

        def parse(text: object, **options: Any) -> _Probe:
            return _Probe(self.call(text, options, (key,)), key)

        return parse


@dataclass(frozen=True)
class _Param:
    values: tuple[Any, ...]
    id: str | None = None


class _Pytest:
    """Just enough of pytest for their test modules' data."""

    @staticmethod
    def param(*values: Any, id: str | None = None, **_marks: Any) -> _Param:
        return _Param(values, id)


_HERE = "__peer_module_dir__"


class Sandbox:
    """Runs the statements of a peer's test modules one by one; a statement it cannot run (a
    call of their internals, a CLI runner, a timer) is skipped, never fatal."""

    def __init__(self, tests: Path, names: dict[str, Any]) -> None:
        self.tests, self.names = tests, {"pytest": _Pytest, "param": _Pytest.param, **names}
        self.modules: dict[Path, dict[str, Any]] = {}
        self.functions: list[str] = []  # every test function run, as `file:name[n]`

    def value(self, node: ast.expr, env: dict[str, Any]) -> Any:
        tree = ast.fix_missing_locations(_NotIn().visit(ast.Expression(node)))
        code = compile(tree, "<peer test>", "eval")
        return eval(code, {**env, "__builtins__": _BUILTINS})

    def run(self, body: list[ast.stmt], env: dict[str, Any]) -> None:
        for statement in body:
            try:
                self._statement(statement, env)
            except Exception:  # their statement needs something the sandbox does not offer
                continue

    def _statement(self, node: ast.stmt, env: dict[str, Any]) -> None:
        if isinstance(node, ast.Assign):
            self._bind(node.targets[0], self.value(node.value, env), env)
        elif isinstance(node, ast.Assert | ast.Expr):
            self.value(node.test if isinstance(node, ast.Assert) else node.value, env)
        elif isinstance(node, ast.For | ast.With):
            self._block(node, env)
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            self._import(node, env)

    def _import(self, node: ast.ImportFrom, env: dict[str, Any]) -> None:
        """`from .cases import X` between their test modules (other imports: the probes)."""
        found = self.module(env[_HERE] / Path(*(node.module or "").split(".")))
        env.update({a.asname or a.name: found[a.name] for a in node.names if a.name in found})

    def _block(self, node: ast.For | ast.With, env: dict[str, Any]) -> None:
        if isinstance(node, ast.With):
            self.run(node.body, env)
            return
        for item in self.value(node.iter, env):
            self._bind(node.target, item, env)
            self.run(node.body, env)

    def _bind(self, target: ast.expr, value: Any, env: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, ast.Tuple):
            for part, item in zip(target.elts, value, strict=True):
                self._bind(part, item, env)

    def module(self, path: Path) -> dict[str, Any]:
        """The names a module (or package) of theirs defines at module level."""
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if path not in self.modules:
            env = {**self.names, _HERE: path.parent}
            tree = ast.parse(path.read_text(encoding="utf-8"))
            self.run([n for n in tree.body if not isinstance(n, ast.FunctionDef)], env)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and _decorated(node, "fixture"):
                    env[node.name] = _Fixture(node)
            self.modules[path] = {**env, **self.names}
        return self.modules[path]

    def run_tests(self, path: Path, recorder: Recorder) -> None:
        """Every test function of a module, once per parameter set, fixtures supplied (its own
        and its folder's conftest.py)."""
        conftest = path.parent / "conftest.py"
        env = {**(self.module(conftest) if conftest.exists() else {}), **self.module(path)}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                for number, args in enumerate(self._parameters(node, env)):
                    recorder.where = f"{path.name}:{node.name}" + (f"[{number}]" if number else "")
                    recorder.doc = ast.get_docstring(node) or ""
                    self.functions.append(recorder.where)
                    self.run(node.body, {**env, **self.fixtures(node, env), **args})

    def unread(self, recorder: Recorder) -> list[Left]:
        """The test functions that called nothing the sandbox probes."""
        called = {call.where for call in recorder.calls}
        return [Left(where, "not read", "") for where in self.functions if where not in called]

    def _parameters(self, node: ast.FunctionDef, env: dict[str, Any]) -> list[dict[str, Any]]:
        sets: list[dict[str, Any]] = [{}]
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _decorated_by(decorator, "parametrize"):
                names = _names(self.value(decorator.args[0], env))
                rows = self.value(decorator.args[1], env)
                rows = [_row(row, len(names)) for row in rows]
                sets = [{**s, **dict(zip(names, row, strict=True))} for s in sets for row in rows]
        return sets

    def fixtures(self, node: ast.FunctionDef, env: dict[str, Any]) -> dict[str, Any]:
        fixtures = {}
        for arg in node.args.args:
            fixture = env.get(arg.arg)
            if isinstance(fixture, _Fixture):
                fixtures[arg.arg] = fixture.value(self, env)
        return fixtures


@dataclass(frozen=True)
class _Fixture:
    node: ast.FunctionDef

    def value(self, sandbox: Sandbox, env: dict[str, Any]) -> Any:
        for statement in self.node.body:
            if isinstance(statement, ast.Return) and statement.value is not None:
                return sandbox.value(statement.value, {**env, **sandbox.fixtures(self.node, env)})
        return None


def _names(spec: str | tuple[str, ...] | list[str]) -> list[str]:
    return [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec)]


def _row(row: Any, width: int) -> tuple[Any, ...]:
    values = row.values if isinstance(row, _Param) else row
    return tuple(values) if width > 1 else (values,)


def _decorated_by(node: ast.expr, name: str) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (isinstance(target, ast.Attribute) and target.attr == name) or (
        isinstance(target, ast.Name) and target.id == name
    )


def _decorated(node: ast.FunctionDef, name: str) -> bool:
    return any(_decorated_by(d, name) for d in node.decorator_list)


# --- cases -----------------------------------------------------------------------------------


def _always(_pair: Pair) -> bool:
    return True


@dataclass
class Case:
    """One input text, what Pivot must find in it, and which findings are judged."""

    where: str
    group: str
    text: str
    expected: set[Pair]
    judged: Callable[[Pair], bool] = _always


@dataclass(frozen=True)
class Left:
    """A case or an expectation left out, and why (a key of CONVENTIONS)."""

    where: str
    reason: str
    detail: str


def canonical(kind: str, raw: str) -> Pair:
    """Pivot's canonical form of a value a peer expects; lower-cased when Pivot refuses it."""
    if kind == "url" and "://" not in raw:
        raw = "http://" + raw
    try:
        return kind, make_indicator(Kind(kind), raw).value
    except (InvalidInput, ValueError):
        return kind, raw.lower()


# --- ioc-fanger: the indicators of the text `fang` must return --------------------------------

# White space, angle brackets and quotes end a token, and so does a closing bracket right before
# a scheme (their output of Markdown's `[url](url)` keeps the two URLs glued by `]`).
_TOKENS = re.compile(r"[\s<>\"']+|(?<=[\])])(?=(?:https?|ftp)://)")
_EMPHASIS = "*_~`"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_TRAILERS = ".,;:!?"
_HASHES = ("md5", "sha1", "sha256")


def _trim(token: str) -> str:
    while len(token) > 1 and token[0] == token[-1] and token[0] in _EMPHASIS:
        token = token[1:-1]
    token = token.lstrip("([{")
    while token and (
        token[-1] in _TRAILERS
        or (token[-1] in _CLOSERS and token.count(token[-1]) > token.count(_CLOSERS[token[-1]]))
    ):
        token = token[:-1]
    return token


def _readings(token: str) -> list[tuple[str, str]]:
    if "://" in token:
        return [("url", token)]
    if "@" in token:
        return [("email", token)]
    if "/" in token:
        return [("cidr", token), ("url", "http://" + token)]
    return [("ipv4", token), ("ipv6", token), *((h, token) for h in _HASHES), ("domain", token)]


def indicators_of(fanged: str) -> set[Pair]:
    """Every token of `fanged` that is, whole, a valid indicator of one of Pivot's kinds."""
    found = set()
    for token in _TOKENS.split(fanged):
        for kind, raw in _readings(_trim(token)):
            try:
                found.add((kind, make_indicator(Kind(kind), raw).value))
                break
            except InvalidInput:
                continue
    return found


def _bare_commas(text: str, pair: Pair) -> bool:
    kind, value = pair
    return kind == "ipv4" and value.replace(".", ",") in text and value not in text


# Styles ioc-fanger reads and Pivot refuses on purpose: the whole case is left out.
_FANGER_REFUSED = {
    "et": re.compile(r"(?i)[\[(] {0,2}et {0,2}[\])]|(?<=[a-z])et[\])]"),
    "glued AT": re.compile(r"(?<=[a-z])AT(?=[a-z])"),
    "spaced @": re.compile(r"\w {1,2}@ {1,2}\w"),
}


def _refused(call: Call) -> str | None:
    return next((name for name, style in _FANGER_REFUSED.items() if style.search(call.text)), None)


def fanger_cases(tests: Path) -> tuple[list[Case], list[Left]]:
    recorder = Recorder()
    names = {"ioc_fanger": recorder, "ioc_fanger_module": recorder}
    sandbox = Sandbox(tests, names)
    for path in sorted(tests.glob("test_*.py")):
        sandbox.run_tests(path, recorder)
    cases, left = [], sandbox.unread(recorder)
    for call in recorder.calls:
        reason = "defang" if call.defang else _refused(call) if call.outputs else "no expectation"
        if reason:
            left.append(Left(call.where, reason, ""))
            continue
        case = Case(call.where, "tests", call.text, indicators_of(call.outputs[0]))
        cases.append(_without(case, "bare commas", _bare_commas, left))
    sample = (tests / "sample_text_defanged.txt").read_text(encoding="utf-8")
    fanged = (tests / "sample_text_fanged.txt").read_text(encoding="utf-8")
    cases.append(Case("sample_text_defanged.txt", "sample text", sample, indicators_of(fanged)))
    return cases, left


def _without(
    case: Case, reason: str, applies: Callable[[str, Pair], bool], left: list[Left]
) -> Case:
    """`case` without the expectations a named convention of Pivot's leaves out."""
    for pair in sorted(p for p in case.expected if applies(case.text, p)):
        case.expected.discard(pair)
        left.append(Left(case.where, reason, f"{pair[0]} {pair[1]}"))
    return case


# --- ioc-finder: lists per type ----------------------------------------------------------------

_IMPHASH = re.compile(r"(?i)imphash|import hash|authentihash")
_QUAD = re.compile(r"(?<![\d.])\d{1,4}(?:\.\d{1,4}){3}(?![\d.])")
_GLUED_UNSPACED = re.compile(r"[\w.][\u2e80-\u9fff\uac00-\ud7af]")


def _supported_types(library: Path) -> list[str]:
    """ioc-finder's SUPPORTED_IOC_TYPES, read from its source."""
    for node in ast.parse(library.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == (
            "SUPPORTED_IOC_TYPES"
        ):
            return list(ast.literal_eval(node.value))
    raise LookupError("SUPPORTED_IOC_TYPES not found")


def finder_calls(tests: Path) -> tuple[list[Call], list[Left]]:
    """The table of cases (every type compared) and every probed call of the test modules."""
    recorder = Recorder()
    types = _supported_types(tests.parent / "ioc_finder" / "ioc_finder.py")
    parsers = {"domain_names": "domains", "urls": "urls", "email_addresses": "email_addresses"}
    parsers |= {"complete_email_addresses": "email_addresses_complete"}
    parsers |= {"xmpp_addresses": "xmpp_addresses"}
    names: dict[str, Any] = {f"parse_{k}": recorder.parser(v) for k, v in parsers.items()}
    names |= {"find_iocs": recorder.find_iocs, "_find_iocs": recorder.find_iocs}
    names |= {"ioc_finder": recorder, "SUPPORTED_IOC_TYPES": types}
    names["iterables_have_same_items"] = _same_items
    sandbox = Sandbox(tests, names)
    table = sandbox.module(tests / "find_iocs_cases")["ALL_TESTS"]
    calls = [_table_call(row, types) for row in table]
    for path in sorted(tests.glob("test_*.py")):
        if path.name != "test_find_iocs.py":  # it runs the table above
            sandbox.run_tests(path, recorder)
    return calls + recorder.calls, sandbox.unread(recorder)


def _table_call(row: _Param, types: list[str]) -> Call:
    text, results, options = row.values
    only = tuple(options.get("included_ioc_types") or types)
    exact = {key: list(results.get(key, [])) for key in only if key in _PEER_KINDS}
    exact |= {k: list(v) for k, v in results.items() if k not in _PEER_KINDS and v}
    return Call(f"find_iocs_cases:{row.id}", text, options, only, exact=exact)


def _asserted(call: Call, key: str) -> list[str]:
    return [*call.exact.get(key, []), *sorted(call.contains.get(key, set()))]


def _complete(call: Call, key: str) -> bool:
    if call.only is not None and key not in call.only:
        return False
    count = call.counts.get(key)
    return key in call.exact or count == 0 or count == len(call.contains.get(key, ()))


def _read_on(url: str, text: str) -> list[str]:
    """A URL as `urls` gives it (cut at a comma), read on where the text goes on with a comma,
    as `urls_complete` ends it; kept as given where the text ends it there."""
    longer = re.findall(re.escape(url) + r"(?:,[^\s,'\"<>]+)+", text)
    ends = re.search(re.escape(url) + "(?!,)", text) is not None or not longer
    return sorted({*longer, *([url] if ends else [])})


def _preferred(call: Call, first: str, second: str) -> str:
    return first if _asserted(call, first) else second


def _expected_raw(call: Call) -> list[Pair]:
    """(kind, value as they wrote it) for Pivot's kinds, preferring complete URLs and plain
    addresses (see the module's docstring)."""
    url_key = _preferred(call, "urls_complete", "urls")
    email_key = _preferred(call, "email_addresses", "email_addresses_complete")
    skipped = {"urls", "urls_complete", "email_addresses", "email_addresses_complete"}
    keys = [url_key, email_key, *(k for k in _PEER_KINDS if k not in skipped)]
    pairs = [(_PEER_KINDS[key], value) for key in keys for value in _asserted(call, key)]
    if url_key == "urls":
        read = [(k, _read_on(v, call.text) if k == "url" else [v]) for k, v in pairs]
        pairs = [(kind, value) for kind, values in read for value in values]
    return pairs


def _bounded(value: str, text: str) -> bool:
    """`value` written in `text` as a whole, not as a piece of a longer name, number or
    `%XX` escape."""
    pattern = rf"(?<![\w.\-%]){re.escape(value)}(?![\w\-]|\.[\w\-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _inside_only(pair: Pair, text: str) -> bool:
    """True when `value` is written only inside a bigger token: a URL, a path, an e-mail
    address or a CIDR (for an e-mail address: only inside a URL)."""
    kind, value = pair
    bigger = ("://",) if kind == "email" else ("/", "@")
    tokens = [(t, any(b in t for b in bigger)) for t in text.split()]
    inside = any(value.lower() in t.lower() for t, big in tokens if big)
    alone = any(_bounded(value, t) for t, big in tokens if not big)
    return kind not in ("url", "cidr") and inside and not alone


def _pivot_repeats(pairs: list[Pair], text: str) -> tuple[list[Pair], int]:
    """Without what ioc-finder takes out of a URL, an address or a CIDR and that does not
    also stand alone in the text: Pivot does not report it again."""
    kept = [pair for pair in pairs if not _inside_only(pair, text)]
    return kept, len(pairs) - len(kept)


def _leading_zero(text: str, pair: Pair) -> bool:
    kind, value = pair
    padded = (q for q in _QUAD.findall(text) if re.search(r"(?:^|\.)0\d", q))
    normal = {".".join(str(int(octet)) for octet in q.split(".")) for q in padded}
    return kind == "ipv4" and value in normal and not _bounded(value, text)


def _file_name(text: str, pair: Pair) -> bool:
    kind, value = pair
    return kind == "domain" and looks_like_file(canonical(kind, value)[1]) and _bounded(value, text)


def _hex_prefix(text: str, pair: Pair) -> bool:
    return pair[0] in _HASHES and "0x" + pair[1].lower() in text.lower()


def _rfc5322(text: str, pair: Pair) -> bool:
    kind, value = pair
    return kind == "email" and (
        re.search(r"[()\"\\]", value) is not None or value.lower() not in text.lower()
    )


def _partial_name(text: str, pair: Pair) -> bool:
    kind, value = pair
    return kind == "domain" and value.lower() in text.lower() and not _bounded(value, text)


def _in_path(text: str, pair: Pair) -> bool:
    kind, value = pair
    if kind != "url" or "://" in value or value.lower() not in text.lower():
        return False
    return re.search(rf"(?<![/\w.\-]){re.escape(value)}", text, re.IGNORECASE) is None


def _past_quote(_text: str, pair: Pair) -> bool:
    return pair[0] == "url" and re.search("[\"']", pair[1]) is not None


_FINDER_CONVENTIONS = {
    "leading zero": _leading_zero,
    "file name": _file_name,
    "hex prefix": _hex_prefix,
    "rfc 5322": _rfc5322,
    "partial name": _partial_name,
    "path": _in_path,
    "quote": _past_quote,
}
_LIMITATION = re.compile(r"(?i)unreachable|does not support|truncated")


def _kinds_left(call: Call) -> list[Left]:
    keys = {*call.exact, *call.contains, *call.counts} - set(_PEER_KINDS)
    return [Left(call.where, "kind", key) for key in sorted(keys) if _asserted(call, key)]


def _convention(text: str, pair: Pair) -> str | None:
    return next((r for r, applies in _FINDER_CONVENTIONS.items() if applies(text, pair)), None)


def finder_case(call: Call, mapped: Counter[str]) -> tuple[Case | None, list[Left]]:
    """The case a call makes, with what is left out of it; None when nothing is left."""
    left = _kinds_left(call)
    if not call.text.isascii() and not call.options.get("parse_unicode_iocs"):
        return None, [*left, Left(call.where, "ascii mode", "")]
    raw, dropped = _pivot_repeats(_expected_raw(call), call.text)
    mapped["taken out of a URL, address or CIDR"] += dropped
    expected = set()
    for pair in raw:
        reason = _convention(call.text, pair)
        if reason:
            left.append(Left(call.where, reason, f"{pair[0]} {pair[1]}"))
        else:
            expected.add(canonical(*pair))
    judged, reasons = _judge(call, raw)
    left += [Left(call.where, reason, "") for reason in reasons]
    case = Case(call.where, _group(call), call.text, expected, judged)
    has_pivot_kinds = raw or any(_complete(call, key) for key in _PEER_KINDS) or call.absent
    return (case if has_pivot_kinds else None), left


def _group(call: Call) -> str:
    return "table" if call.where.startswith("find_iocs_cases:") else "tests"


def _unjudged(call: Call, raw: list[Pair]) -> tuple[set[str], list[str]]:
    """Kinds whose findings are not judged in a call, and the conventions why."""
    rules = (
        ("imphash", {"md5", "sha256"}, _IMPHASH.search(call.text)),
        ("no scheme-less option", {"url"}, call.options.get("parse_urls_without_scheme") is False),
        ("quote", {"url"}, any(_past_quote("", pair) for pair in raw)),
        ("pinned limitation", set(KINDS), _LIMITATION.search(call.doc)),
        ("unspaced script", {"domain"}, call.options.get("parse_unicode_iocs")
         and _GLUED_UNSPACED.search(call.text)),
    )  # fmt: skip
    kinds = set().union(*(k for _, k, applies in rules if applies))
    return kinds, [reason for reason, _, applies in rules if applies]


def _judge(call: Call, raw: list[Pair]) -> tuple[Callable[[Pair], bool], list[str]]:
    """Which findings of a call are judged, and the conventions that narrowed them."""
    unjudged, reasons = _unjudged(call, raw)
    absent = [(k, v) for k, vs in call.absent.items() if k in _PEER_KINDS for v in vs]
    forbidden = {canonical(_PEER_KINDS[k], v) for k, v in absent}

    def judged(pair: Pair) -> bool:
        kind, value = pair
        if pair in forbidden:
            return True
        if kind in unjudged:
            return False
        if kind == "cidr":
            kind = "cidr6" if ":" in value else "cidr4"
        return all(any(_complete(call, k) for k in group) for group in _JUDGED_BY[kind])

    return judged, reasons


def finder_cases(tests: Path) -> tuple[list[Case], list[Left], Counter[str]]:
    calls, left = finder_calls(tests)
    cases, mapped = [], Counter[str]()
    for call in calls:
        case, why = finder_case(call, mapped)
        left += why
        if case is not None:
            cases.append(case)
    return cases, left, mapped


# --- scoring and the report --------------------------------------------------------------------


@dataclass
class Tally:
    """Counts per kind, and every miss, false positive and unjudged finding with its case."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[Case, Pair]] = field(default_factory=list)
    wrong: list[tuple[Case, Pair]] = field(default_factory=list)
    unjudged: list[tuple[Case, Pair]] = field(default_factory=list)

    def add(self, case: Case, found: set[Pair]) -> None:
        self.tp.update(kind for kind, _ in found & case.expected)
        self.fn.update(kind for kind, _ in case.expected - found)
        self.misses += [(case, pair) for pair in sorted(case.expected - found)]
        for pair in sorted(found - case.expected):
            judged = case.judged(pair)
            (self.fp.update((pair[0],)) if judged else None)
            (self.wrong if judged else self.unjudged).append((case, pair))

    def score(self, kind: str | None = None) -> tuple[Score, tuple[int, int, int]]:
        counts = (self.tp, self.fp, self.fn)
        tp, fp, fn = (c.total() if kind is None else c[kind] for c in counts)
        return Score.of(tp, fp, fn), (tp, fp, fn)


def tally(cases: Iterable[Case]) -> Tally:
    result = Tally()
    for case in cases:
        result.add(case, {(i.kind.value, i.value) for i in extract_indicators(case.text)})
    return result


def _line(label: str, tally_: Tally, kind: str | None = None) -> str:
    s, (tp, fp, fn) = tally_.score(kind)
    return f"  {label:12} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}   {tp:5} {fp:4} {fn:4}"


def _excerpt(text: str, width: int = 90) -> str:
    shown = repr(text)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


def print_scores(name: str, cases: list[Case]) -> Tally:
    result = tally(cases)
    print(f"\n== {name}: {len(cases)} cases, {result.tp.total() + result.fn.total()} expected")
    print(f"  {'':12} {'prec':>6} {'recall':>6} {'F1':>6}   {'tp':>5} {'fp':>4} {'fn':>4}")
    print(_line("all", result))
    for kind in KINDS:
        if result.tp[kind] + result.fp[kind] + result.fn[kind]:
            print(_line(kind, result, kind))
    for group in sorted({c.group for c in cases}):
        print(_line(f"[{group}]", tally(c for c in cases if c.group == group)))
    return result


def print_findings(result: Tally, show: int) -> None:
    for title, rows in (("misses", result.misses), ("false positives", result.wrong)):
        print(f"\n  {title}: {len(rows)}")
        for case, (kind, value) in rows[:show]:
            print(f"    {kind:6} {value}\n           in {case.where}: {_excerpt(case.text)}")
    kinds = Counter(kind for _, (kind, _) in result.unjudged)
    print(f"\n  not judged (the test says nothing of that kind): {len(result.unjudged)}", end="")
    print(" (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")" if kinds else "")


def print_left(left: list[Left], mapped: Counter[str], show: int) -> None:
    print(f"\n  left out: {len(left)}")
    by_reason: dict[str, list[Left]] = {}
    for item in left:
        by_reason.setdefault(item.reason, []).append(item)
    for reason, items in sorted(by_reason.items()):
        print(f"    {reason} ({len(items)}): {CONVENTIONS[reason]}")
        if reason == "kind":
            kinds = Counter(i.detail for i in items).most_common()
            print("      " + ", ".join(f"{k} {n}" for k, n in kinds))
            continue
        details = Counter(f"{i.where} {i.detail}".strip() for i in items).most_common()
        for detail, count in details[:show]:
            print(f"      {detail}" + (f" (x{count})" if count > 1 else ""))
    for what, count in mapped.items():
        print(f"  mapped to Pivot's convention: {count} expected names or addresses {what}")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=list(PEERS), action="append", help="default: both")
    parser.add_argument("--show", type=int, default=1000, help="misses etc. listed per suite")
    parser.add_argument("--keep", type=Path, help="download into (and reuse) this directory")
    return parser.parse_args()


def main() -> None:
    args = _args()
    with tempfile.TemporaryDirectory() as scratch:
        tests = download(args.keep or Path(scratch))
        for suite in args.suite or list(PEERS):
            mapped: Counter[str] = Counter()
            if suite == "ioc-fanger":
                cases, left = fanger_cases(tests[suite])
            else:
                cases, left, mapped = finder_cases(tests[suite])
            result = print_scores(f"{suite} ({PEERS[suite]})", cases)
            print_findings(result, args.show)
            print_left(left, mapped, args.show)


if __name__ == "__main__":
    main()
