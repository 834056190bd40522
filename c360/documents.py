"""Persisted operations: Apollo's persisted-query manifest, each document checked against the
schema, and the documents a JavaScript bundle sends, found by extraction (the console's).

A manifest (what ``@apollo/generate-persisted-query-manifest`` writes)::

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "Profile", "type": "query",
                     "body": "query Profile($id: ID!) { ... }"}]}

A document is known by two hashes: ``id``, the SHA-256 of its text as registered (what a client
sends as ``extensions.persistedQuery.sha256Hash``), and ``canonical``, the SHA-256 of its
printed AST, so a client sending the full text in another layout (spaces, line breaks) is
recognised too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
OPERATION_TYPES = ("query", "mutation", "subscription")
MAX_TOKENS = 2000  # as the API's own token limit (schema.MAX_TOKENS)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


# Texts longer than this are parsed and hashed every time, never kept: a request may carry up to
# the body limit in one string argument, and a cache keyed by such texts would hold gigabytes.
MAX_CACHED_TEXT = 16_384


def _parse(text: str) -> DocumentNode | None:
    try:
        return parse(text, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None


def _canonical(text: str) -> str | None:
    document = parsed(text)
    return None if document is None else sha256_hex(print_ast(document))


_parse_cached = lru_cache(maxsize=1024)(_parse)
_canonical_cached = lru_cache(maxsize=1024)(_canonical)


def parsed(text: str) -> DocumentNode | None:
    """The document, or None when it does not parse (or holds more than MAX_TOKENS tokens)."""
    return _parse_cached(text) if len(text) <= MAX_CACHED_TEXT else _parse(text)


def canonical_hash(text: str) -> str | None:
    """SHA-256 of the printed AST: the same for any layout of the same document."""
    return _canonical_cached(text) if len(text) <= MAX_CACHED_TEXT else _canonical(text)


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    type: str
    body: str

    @property
    def canonical(self) -> str:
        return canonical_hash(self.body) or ""

    def manifest_entry(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


class ManifestError(ValueError):
    """What is wrong with a manifest, each problem naming its operation."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_manifest(data: Any, schema: GraphQLSchema) -> list[Document]:
    """The manifest's documents, each checked: the format, an id that is the body's SHA-256,
    one operation of the named type and name, and a document that validates against the
    schema. Raises ManifestError listing every problem, each naming its operation."""
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(
            [f'not an Apollo persisted-query manifest (format "{MANIFEST_FORMAT}")']
        )
    if data.get("version") != 1:
        raise ManifestError([f"manifest version {data.get('version')!r} is not supported (1)"])
    entries = data.get("operations")
    if not isinstance(entries, list) or not entries:
        raise ManifestError(["the manifest has no operations"])
    documents: list[Document] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        label = f"operation #{index + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{label} is not an object")
            continue
        name, body, kind, given_id = (entry.get(k) for k in ("name", "body", "type", "id"))
        if isinstance(name, str) and name:
            label = f"operation {name!r}"
        if not isinstance(body, str) or not body.strip():
            problems.append(f"{label} has no body")
            continue
        if given_id != sha256_hex(body):
            problems.append(f"{label}: id is not the SHA-256 of its body ({sha256_hex(body)})")
            continue
        found = check_document(body, schema, name=name if isinstance(name, str) else None)
        if isinstance(found, str):
            problems.append(f"{label}: {found}")
            continue
        if kind not in OPERATION_TYPES or kind != found.type:
            problems.append(f"{label}: type {kind!r} is not the document's ({found.type})")
            continue
        documents.append(found)
    if problems:
        raise ManifestError(problems)
    return documents


def check_document(body: str, schema: GraphQLSchema, *, name: str | None = None) -> Document | str:
    """The document, or what is wrong with it: it must parse, hold exactly one operation (named
    ``name`` when given) and validate against ``schema``."""
    document = parsed(body)
    if document is None:
        try:
            parse(body, max_tokens=MAX_TOKENS)
        except GraphQLError as exc:
            return f"does not parse: {exc.message}"
        return "does not parse"
    ops = operations(document)
    if len(ops) != 1:
        return f"holds {len(ops)} operations; a persisted document holds exactly one"
    op = ops[0]
    op_name = op.name.value if op.name else None
    if name is not None and op_name is not None and op_name != name:
        return f"the operation in the body is named {op_name!r}"
    errors = validate(schema, document)
    if errors:
        return "does not validate: " + " ".join(e.message for e in errors[:5])
    roots = "+".join(
        sel.name.value for sel in op.selection_set.selections if isinstance(sel, FieldNode)
    )
    label = name or op_name or f"{op.operation.value} {roots or sha256_hex(body)[:12]}"
    return Document(id=sha256_hex(body), name=label, type=op.operation.value, body=body)


def manifest(documents: Iterable[Document]) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [d.manifest_entry() for d in documents],
    }


# -- extraction from JavaScript --------------------------------------------------------------

# A string literal that may start a GraphQL operation: its quote, then the operation's first word.
_CANDIDATE = re.compile(r"""([`"'])(\s*(?:query|mutation|subscription|\{))""")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _literal_at(source: str, start: int, quote: str) -> str | None:
    """The value of the JavaScript string literal whose opening quote is at ``start``, or None
    (unterminated, or a template literal with substitutions: its text is not fixed)."""
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == quote:
            return "".join(out)
        if char == "\\":
            nxt = source[i + 1 : i + 2]
            if nxt == "u" and source[i + 2 : i + 3] == "{":
                end = source.index("}", i + 3)
                out.append(chr(int(source[i + 3 : end], 16)))
                i = end + 1
                continue
            if nxt == "u":
                out.append(chr(int(source[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "x":
                out.append(chr(int(source[i + 2 : i + 4], 16)))
                i += 4
                continue
            if nxt == "\n":  # a line continuation
                i += 2
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if quote == "`" and source.startswith("${", i):
            return None
        if quote != "`" and char == "\n":
            return None
        out.append(char)
        i += 1
    return None


def documents_in_javascript(source: str, schema: GraphQLSchema) -> list[Document]:
    """Every string literal of ``source`` that is one GraphQL operation valid against ``schema``
    (in order, once each): the documents a bundle such as the console's sends, exactly as it
    sends them. Works on the sources and on esbuild's minified output alike (minifying keeps
    string values)."""
    found: dict[str, Document] = {}
    for match in _CANDIDATE.finditer(source):
        try:
            text = _literal_at(source, match.start(), match.group(1))
        except ValueError:
            continue
        if text is None or text in found:
            continue
        checked = check_document(text, schema)
        if isinstance(checked, Document):
            found[text] = checked
    return list(found.values())


# -- extraction from Markdown (a README's examples) ------------------------------------------

_FENCED_GRAPHQL = re.compile(r"```graphql\n(.*?)```", re.DOTALL)
_CURL_BODY = re.compile(r"-d '(\{.*?\})'", re.DOTALL)


def documents_in_markdown(text: str, schema: GraphQLSchema) -> list[Document]:
    """The operations of a Markdown file's examples: each operation of a ```graphql block (its
    own text, as a reader copies it) and the query of each curl ``-d '{"query": ...}'``, when
    valid against ``schema``."""
    import json

    texts: list[str] = []
    for block in _FENCED_GRAPHQL.findall(text):
        document = parsed(block)
        if document is None:
            continue
        for op in operations(document):
            if op.loc is not None:
                texts.append(block[op.loc.start : op.loc.end])
    for payload in _CURL_BODY.findall(text):
        try:
            query = json.loads(payload).get("query")
        except ValueError:
            continue
        if isinstance(query, str):
            texts.append(query)
    found: dict[str, Document] = {}
    for body in texts:
        checked = check_document(body, schema)
        if isinstance(checked, Document):
            found.setdefault(checked.id, checked)
    return list(found.values())
