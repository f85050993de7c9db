"""Every defang style, undone: one pass per family, each behind a cheap test of the text.

A dot that was written defanged becomes DOT, a private-use character the scanner reads as a
dot, so it can tell a name someone deliberately defanged from a bare `setup.py`; a defanged
`@` becomes a plain one. Every pass is linear: a C-level `str.replace`, one regex pass whose
repetitions are bounded or possessive, or a little Python per `//` found. The reasons for
each style (and for those left alone) are in the package's list of decisions.
"""

from __future__ import annotations

import re

DOT = "\ue000"
SLOT_OPEN = "\ue001"
SLOT_CLOSE = "\ue002"
AT = "\ue003"
RESERVED = DOT + SLOT_OPEN + SLOT_CLOSE + AT
# Scripts written without spaces between words, where an indicator may touch the text around
# it (`使用了evil.com作为`): a space goes between them and letters or digits of other scripts.
UNSPACED = (
    r"\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)

_WORD = r"\w"  # Unicode: `пример].[рф`
_FIXED = (
    ("[:]", ":"),
    ("(:)", ":"),
    ("[://]", "://"),
    ("[/]", "/"),
    ("\\/", "/"),
    ("[-]", "-"),
)
# Each pattern below starts with one character class, so the regex engine skips ahead to the
# places it can match in its fast loop instead of trying every position.
# Dots: bracketed, with up to two spaces inside: `[.] (.) {.} [dot] (punto) {punkt}`; between
# two word characters, brackets facing any way around a dot (`].[ [.[ }.}`); between digits,
# a bracketed comma (`5[,]6`).
_BRACKETED = re.compile(
    r"[\[\](){}](?:(?<=[\[({])[ \t]{0,2}+(?:\.|(?i:dot|punto|punkt))[ \t]{0,2}+[\])}]"
    rf"|(?<={_WORD}.)\.[\[\](){{}}](?={_WORD})|(?<=\d[\[(]),[\])](?=\d))"
)
_BRACKETED_AT = re.compile(r"[\[({][ \t]{0,2}+(?:@|(?i:at|arroba))[ \t]{0,2}+[\])}]")
# A dot word or an at word glued to the label before it and closed by a lone bracket
# (`foodot]com`, `foopunto)com`, `fooat]bar.com`, `fooARROBA}bar.com`), looked for only where
# a closing bracket follows one of their last letters.
_LONE_DOT = re.compile(rf"[dDpP](?:(?<={_WORD}.)(?i:ot|unto|unkt))[\])}}](?={_WORD})")
_LONE_AT = re.compile(rf"[aA](?:(?<={_WORD}.)(?:t|rroba|T|RROBA))[\])}}](?={_WORD})")
_LONE_END = re.compile(rf"[\])}}](?<=[tToOaA].)(?={_WORD})")
# `DOT` in capitals between lower-case labels, glued or with one or two spaces on each side
# (`fooDOTcom`, `example DOT com`), but not after an article (`the DOT app` is the agency,
# judged in `_dot_word`); `^.` and `<.>` between word characters. Each alternative starts
# with a literal, so the regex engine skips ahead to a `D`, `^` or `<`.
_SPACED = r"(?:(?<=[a-z0-9][ \t]{word})|(?<=[a-z0-9][ \t][ \t]{word}))(?=[ \t]{{1,2}}+[a-z0-9])"
_DOT_WORDS = re.compile(
    rf"DOT(?:(?<=[a-z0-9]DOT)(?=[a-z0-9])|{_SPACED.format(word='DOT')})"
    rf"|\^(?<={_WORD}\^)\.(?={_WORD})|<(?<={_WORD}<)\.>(?={_WORD})"
)
_ARTICLES = frozenset({"the", "a", "an", "this", "that", "per", "no"})
_LAST_WORD = re.compile(r"[A-Za-z]{1,5}+[ \t]*+$")
# A whole name spelt with `-dot-` (`bad-dot-com`): read only when it has no real dot, since
# App Engine's `v2-dot-app.appspot.com` is a real host.
_HYPHEN_NAME = re.compile(r"(?<![\w.\-])[\w\-]++(?![\w\-]|\.[\w\-])")
# `AT` in capitals with spaces around it, after a lower-case letter or digit (`bob AT
# example.com`, not `LOOK AT`).
_AT_WORDS = re.compile(rf"AT{_SPACED.format(word='AT')}")
# `[www].example.com`: a bracketed first label (a letter first) glued to the dot after it.
_BRACKETED_LABEL = re.compile(
    rf"[\[(](?<![0-9A-Za-z\])}}].)([A-Za-z][\w\-]{{0,62}}+)[\])](?=[.{DOT}][0-9A-Za-z])"
)
_LABEL_ENDS = re.compile(f"[\\])][.{DOT}]")
_WIDE_DOTS = re.compile(r"[\uff0e\u3002\uff61](?<=\w.)(?=[A-Za-z0-9])")  # evil。com
_UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")
_SCRIPT_SEAM = re.compile(f"[{UNSPACED}](?=[^\\W{UNSPACED}])|[^\\W{UNSPACED}](?=[{UNSPACED}])")
# What may stand before `//` as a scheme, fanged or not: hxxp hXXp hxtp htxp fxp, ttp with its
# h dropped, xxxx and xxxxs (xxxxx: https), each bare, bracketed (`[http]`, `(https)`) or
# closed by a lone bracket (`http]`), then maybe a space and maybe the colon. Looked for only
# just before each `//`, which is fast to find.
_SCHEME = r"(?i:h[xt]{2}ps?|f[xt]p|ttps?|x{4}s?|x{5})"
_SCHEME_HEAD = re.compile(
    rf"(?:\[(?P<a>{_SCHEME})\]|\((?P<b>{_SCHEME})\)|(?P<c>{_SCHEME})[\])]?)"
    r"(?P<gap>[ \t]?)(?P<colon>:?)$"
)
SLASHES = re.compile("//")
# Cheap tests: whether a family of passes can change anything at all.
_BRACKET_CHARS = re.compile(r"[\[\](){}\\]")
_WORD_TRIGGERS = re.compile(r"DOT|AT[ \t]|\^\.|<\.>|\\\.")  # and `-dot-`: a plain test
_HEAD = 12  # the longest head: `(hxxps) :`


def _fixed(text: str) -> str:
    for fanged, plain in _FIXED:
        if fanged in text:
            text = text.replace(fanged, plain)
    return text


def _squeeze(text: str, mark: str) -> str:
    """Drop the stray spaces people leave around a bracketed dot or at: `evil [.] com`."""
    for spaced in (" " + mark, mark + " ", " " + mark, mark + " "):
        if spaced in text:
            text = text.replace(spaced, mark)
    return text


def _brackets(text: str) -> str:
    if "[" in text or "(" in text or "\\" in text:
        text = _fixed(text)
    text, dots = _BRACKETED.subn(DOT, text)
    text, ats = _BRACKETED_AT.subn(AT, text)
    text = _squeeze(text, DOT) if dots else text
    text = _squeeze(text, AT).replace(AT, "@") if ats else text
    if _LONE_END.search(text):
        text = _LONE_AT.sub("@", _LONE_DOT.sub(DOT, text))
    return text


def _words(text: str) -> str:
    if "DOT" in text or "^." in text or "<.>" in text:
        text, dots = _DOT_WORDS.subn(_dot_word, text)
        text = _squeeze(text, DOT) if dots else text
    if "-dot-" in text:
        text = _HYPHEN_NAME.sub(_hyphen_name, text)
    if "AT " in text or "AT\t" in text:
        text, ats = _AT_WORDS.subn(AT, text)
        text = _squeeze(text, AT).replace(AT, "@") if ats else text
    return text.replace("\\.", DOT) if "\\." in text else text


def _dot_word(match: re.Match[str]) -> str:
    """DOT, unless the word before a spaced `DOT` is an article (`the DOT app`)."""
    before = _LAST_WORD.search(match.string, max(0, match.start() - 8), match.start())
    word = before[0] if before else ""
    spaced_article = word != word.rstrip(" \t") and word.rstrip(" \t") in _ARTICLES
    return match[0] if spaced_article else DOT


def _hyphen_name(match: re.Match[str]) -> str:
    name = match[0]
    return name.replace("-dot-", DOT) if "-dot-" in name.strip("-") else name


def _foreign(text: str, seams: bool) -> str:
    if "\uff0e" in text or "\u3002" in text or "\uff61" in text:
        text = _WIDE_DOTS.sub(DOT, text)
    if seams and _UNSPACED_CHAR.search(text):
        text = _SCRIPT_SEAM.sub(r"\g<0> ", text)
    return text


def plain_scheme(fanged: str) -> str:
    """`hXXp` -> `http`, `HXXPS` -> `HTTPS`, `fxp` -> `ftp`, `ttp` -> `http`, `xxxxx` ->
    `https`."""
    lower = fanged.lower()
    if lower[0] == "f":
        plain = "ftp"
    else:
        plain = "https" if lower.endswith("s") or lower == "xxxxx" else "http"
    return plain.upper() if fanged.isupper() else plain


def _plain_at(text: str, slashes: int) -> bool:
    """True for the `//` of a URL written plainly (`https://host`): nothing to undo."""
    head = text[max(0, slashes - 7) : slashes].lower()
    plain = head.endswith(("http:", "https:", "ftp:")) and head[-6:-5] not in ("[", "(", " ")
    return plain and text[slashes + 2 : slashes + 3] not in ("/", " ")


def _scheme_at(text: str, slashes: int, done: int) -> tuple[int, str, int] | None:
    """(start, plain scheme, end) when a scheme written any known way ends at the `//` found
    at `slashes`; `end` skips a third slash and one space after them (`http:/// x`)."""
    head = _SCHEME_HEAD.search(text, max(done, slashes - _HEAD), slashes)
    if head is None or (head["gap"] and not head["colon"]) or _in_word(text, head.start()):
        return None
    end = slashes + 2
    end += text.startswith("/", end) and bool(head["colon"])
    end += text.startswith(" ", end) and text[end + 1 : end + 2].isalnum()
    return head.start(), plain_scheme(head["a"] or head["b"] or head["c"]) + "://", end


def _in_word(text: str, start: int) -> bool:
    """`Chttp://`, `ahxxp://`: a scheme glued to the word before it is none."""
    return start > 0 and text[start - 1].isascii() and text[start - 1].isalnum()


def _schemes(text: str) -> str:
    parts: list[str] = []
    done = 0
    for slashes in SLASHES.finditer(text):
        if slashes.start() < done or _plain_at(text, slashes.start()):
            continue
        found = _scheme_at(text, slashes.start(), done)
        if found and text[found[0] : found[2]] != found[1]:
            parts += (text[done : found[0]], found[1])
            done = found[2]
    return "".join([*parts, text[done:]]) if parts else text


def refang_styles(text: str, *, seams: bool = False) -> str:
    """`text` with every defang style undone, a defanged dot left as DOT. `seams` also spaces
    out scripts written without spaces from the names they touch. Each pass runs only when a
    cheap test says it can change something."""
    brackets = _BRACKET_CHARS.search(text) is not None
    if brackets:
        text = _brackets(text)
    if "-dot-" in text or _WORD_TRIGGERS.search(text):
        text = _words(text)
    if not text.isascii():
        text = _foreign(text, seams)
    if brackets and _LABEL_ENDS.search(text) and _BRACKETED_LABEL.search(text):
        text = _BRACKETED_LABEL.sub(r"\1", text)
    return _schemes(text) if "//" in text else text
