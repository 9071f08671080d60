"""Hypothesis strategies for hostile API requests.

A request is built from its JSON schema (the one pydantic derives from the model that
validates it, so the fuzzer follows the models and cannot drift from them), and any node of
it may be swapped for something hostile: a value of the wrong type, a NUL, a lone
surrogate, nesting a thousand levels deep, a field far over its limit. How often is drawn
once per request (`MUTATION_RATE`), so some requests are valid and reach the code past
validation, and shrinking heads for the fewest changes. Ids and tokens the fixtures make at
run time appear as `Ref`s, resolved when the request is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, cast
from urllib.parse import quote

from hypothesis import strategies as st


@dataclass(frozen=True)
class Ref:
    """A value only known when the test runs: an id one of its fixtures made, and text to
    add to its end."""

    name: str
    suffix: str = ""


@dataclass(frozen=True)
class Raw:
    """JSON text sent as is, for what a Python value cannot say: nesting deeper than
    Python's own encoder goes, NaN and infinities."""

    text: str


Json: TypeAlias = bool | int | float | str | Ref | Raw | list["Json"] | dict[str, "Json"] | None
"""A JSON document that may hold `Ref`s and `Raw` text."""

Resolve = Callable[[str], str]
"""What the fixture value of a given `Ref` name is."""


def render(value: Json, resolve: Resolve) -> str:
    """`value` as JSON text. ASCII only: a NUL or a lone surrogate goes out as a `\\u`
    escape, as a hostile client would send it (a lone surrogate has no UTF-8 bytes)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Ref):
        return json.dumps(resolve(value.name) + value.suffix)
    if isinstance(value, dict):
        members = (f"{json.dumps(key)}:{render(item, resolve)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(item, resolve) for item in value) + "]"
    return json.dumps(value)


@dataclass(frozen=True)
class Doc:
    """A JSON body, in an encoding, perhaps cut short."""

    value: Json
    encoding: str = "utf-8"
    cut: int | None = None
    """Send only this many bytes (a body that ends mid-document)."""

    def to_bytes(self, resolve: Resolve) -> bytes:
        data = render(self.value, resolve).encode(self.encoding)
        return data if self.cut is None else data[: self.cut]


@dataclass(frozen=True)
class Bytes:
    """A body that is not JSON at all."""

    data: bytes

    def to_bytes(self, resolve: Resolve) -> bytes:
        return self.data


Body = Doc | Bytes


T = TypeVar("T")


def weighted(*choices: tuple[int, T]) -> st.SearchStrategy[T]:
    """One of `choices`, each (weight, value) about as likely as its weight; the first is
    where shrinking heads."""
    (first_weight, first), rest = choices[0], choices[1:]
    # Hypothesis tries the ends of a list more often than its middle (seen here: the last
    # of eight choices came up a third of the time), so the first choice is at both ends.
    others = [value for weight, value in rest for _ in range(weight)]
    return st.sampled_from([first, *others, *[first] * (first_weight - 1)])


def mostly(usual: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`usual` three times in four, else `rare`."""
    return weighted((3, usual), (1, rare)).flatmap(lambda strategy: strategy)


MUTATION_RATE = st.shared(weighted((3, 0), (1, 3), (1, 10), (1, 30)), key="mutation-rate")
"""Percent of a request's nodes swapped for hostile values, drawn once per request: half of
the requests are valid (as far as their schema says), and failures shrink towards them."""

NUL = "\u0000"
LONE_SURROGATES = ("\ud800", "\udfff", "\udc00\ud800")  # high alone, low alone, reversed

# Ordinary text: no NUL and no surrogates (Hypothesis leaves those out by default); those
# come from HOSTILE, on purpose.
TEXT = st.text(st.characters(exclude_characters=NUL), max_size=30)
KEYS = st.text(st.characters(exclude_characters=NUL), max_size=8)


def nested(depth: int) -> Raw:
    """Arrays `depth` deep."""
    return Raw("[" * depth + "]" * depth)


def _any_json() -> st.SearchStrategy[Json]:
    scalars: st.SearchStrategy[Json] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    )

    def containers(children: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
        return st.one_of(
            st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)
        )

    return st.recursive(scalars, containers, max_leaves=8)


ANY_JSON = _any_json()

UNSTORABLE = st.one_of(
    st.just(NUL), st.sampled_from(LONE_SURROGATES), st.sampled_from([f"a{NUL}b", "a\ud800b"])
)
"""Text PostgreSQL cannot store (what the server must refuse with a 400)."""

# Hypothesis favours the first choices of a `one_of` or `sampled_from`: text comes first.
HOSTILE: st.SearchStrategy[Json] = st.one_of(
    # Text PostgreSQL cannot store, in a value or in a key.
    st.builds(lambda a, bad, b: f"{a}{bad}{b}", TEXT, UNSTORABLE, TEXT),
    st.dictionaries(UNSTORABLE, ANY_JSON, min_size=1, max_size=1),
    # Wrong types and edge values.
    st.sampled_from(
        cast(
            "list[Json]",
            ["", [], {}, None, True, 0, -1, 2**63, -(2**63) - 1, 10**40, 0.5, 1e308],
        )
    ),
    st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999")]),
    ANY_JSON,
    # Deep nesting: around the 64-level limit, and far past Python's own parser.
    st.sampled_from([nested(63), nested(64), nested(65), nested(1000), nested(5000)]),
    st.sampled_from([Raw('{"a":' * 70 + "1" + "}" * 70), Raw('{"a":' * 1000 + "1" + "}" * 1000)]),
    # Huge: past the limits the test app runs with (title 200, message 2,000 characters,
    # tag data 2,000 bytes, metadata 16,000 bytes, body 64,000 bytes; sign-in 4,096).
    st.sampled_from([201, 2_001, 4_100, 16_001, 70_000]).map(lambda n: "x" * n),
)
"""Anything a hostile client might put where a value belongs."""


def hostile(normal: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    """`normal`, or (at the request's mutation rate) a hostile value instead."""

    @st.composite
    def node(draw: st.DrawFn) -> Json:
        rate = draw(MUTATION_RATE)
        if rate and draw(st.integers(0, 99)) < rate:
            return draw(HOSTILE)
        return draw(normal)

    return node()


class FromSchema:
    """Strategies for the values a JSON schema describes, hostile at the mutation rate
    (or, with `hostile=False`, always valid).

    `fields` names the strategy of a field's values by the field's name (`thread_id`:
    real and foreign ids), for every node of that name; an array's items are named by its
    name and `[]`, so `item_ids[]` names the strategy of each id in `item_ids`.
    """

    def __init__(
        self,
        schema: Mapping[str, Any],
        fields: Mapping[str, st.SearchStrategy[Json]],
        *,
        hostile: bool = True,
    ) -> None:
        self.defs: Mapping[str, Any] = schema.get("$defs", {})
        self.fields = fields
        self.hostile = hostile

    def of(self, node: Mapping[str, Any], field: str = "") -> st.SearchStrategy[Json]:
        normal = self._normal(node, field)
        return hostile(normal) if self.hostile else normal

    def document(self, node: Mapping[str, Any]) -> st.SearchStrategy[Json]:
        """Documents of `node`'s shape, whose parts may be hostile (a whole document that
        is something else entirely is JUNK's)."""
        return self._normal(node, "")

    def _normal(self, node: Mapping[str, Any], field: str) -> st.SearchStrategy[Json]:
        if "$ref" in node:
            return self._normal(self.defs[node["$ref"].rsplit("/", 1)[1]], field)
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        for union in ("oneOf", "anyOf"):
            if union in node:
                return st.one_of([self.of(option, field) for option in node[union]])
        kind = node.get("type")
        if field in self.fields:
            return self.fields[field]
        if kind == "object":
            return self._object(node)
        if kind == "array":
            return st.lists(self.of(node.get("items", {}), f"{field}[]"), max_size=3)
        simple: dict[str, st.SearchStrategy[Json]] = {
            "string": TEXT,
            "integer": st.integers(),
            "number": st.floats(allow_nan=False, allow_infinity=False),
            "boolean": st.booleans(),
            "null": st.none(),
        }
        return simple.get(str(kind), ANY_JSON)

    def _object(self, node: Mapping[str, Any]) -> st.SearchStrategy[Json]:
        required = set(node.get("required", ()))
        # A constant (a union's tag, such as a request's `type`) has a default in the
        # schema, but the union cannot tell its members apart without it: always sent.
        fields = [
            (name, name in required or "const" in schema, self.of(schema, name))
            for name, schema in node.get("properties", {}).items()
        ]
        free = node.get("additionalProperties") is True and not fields

        @st.composite
        def value(draw: st.DrawFn) -> Json:
            rate = draw(MUTATION_RATE) if self.hostile else 0
            out: dict[str, Json] = {}
            for name, needed, strategy in fields:
                present = needed or draw(st.booleans())
                if rate and draw(st.integers(0, 99)) < rate:
                    present = not present  # a required field missing
                if present:
                    out[name] = draw(strategy)
            if free:
                out.update(draw(st.dictionaries(KEYS, ANY_JSON, max_size=3)))
            if rate and draw(st.integers(0, 99)) < rate:
                out[draw(KEYS)] = draw(HOSTILE)  # a field nobody asked for
            return out

        return value()


def poisoned(value: Json, target: int, bad: str) -> Json:
    """`value` with `bad` added to the end of its `target`-th string value or id (depth
    first, modulo their number), or `value` itself if it has none. Not a key, and not the
    request's type: either would make the request unknown, not the text unstored."""
    count = _strings(value)
    if not count:
        return value
    place = target % count

    def walk(node: Json, key: str) -> Json:
        nonlocal place
        if isinstance(node, str | Ref) and key != "type":
            place -= 1
            if place != -1:
                return node
            return node + bad if isinstance(node, str) else Ref(node.name, node.suffix + bad)
        if isinstance(node, list):
            return [walk(item, "") for item in node]
        if isinstance(node, dict):
            return {name: walk(item, name) for name, item in node.items()}
        return node

    return walk(value, "")


def _strings(value: Json, key: str = "") -> int:
    if isinstance(value, str | Ref):
        return int(key != "type")
    if isinstance(value, list):
        return sum(_strings(item) for item in value)
    if isinstance(value, dict):
        return sum(_strings(item, name) for name, item in value.items())
    return 0


ENCODINGS = st.sampled_from(["utf-16-le", "utf-32", "utf-16", "utf-16-be", "utf-8-sig"])
"""Encodings other than UTF-8 that a JSON parser may still recognise."""


def documents(document: st.SearchStrategy[Json]) -> st.SearchStrategy[Body]:
    """`document` as UTF-8 JSON, or (one time in eight) cut short."""
    whole = document.map(Doc)
    cut = st.builds(Doc, document, cut=st.integers(0, 60))
    return weighted((7, whole), (1, cut)).flatmap(lambda strategy: strategy)


def unstorable(valid: st.SearchStrategy[Json]) -> st.SearchStrategy[Body]:
    """A `valid` document but for one string holding text that cannot be stored, as UTF-8
    or (half the time) in another encoding, where a check that reads the bytes for the
    `\\u0000` escape would miss it."""

    def spoil(value: Json, target: int, bad: str, encoding: str) -> Body:
        spoiled = poisoned(value, target, bad)
        if spoiled == value and isinstance(value, dict):
            spoiled = {**value, f"x{bad}": "x"}  # nothing to spoil: a key that cannot be kept
        return Doc(spoiled, encoding=encoding)

    encodings = st.one_of(st.just("utf-8"), ENCODINGS)
    return st.builds(spoil, valid, st.integers(0, 50), UNSTORABLE, encodings)


JUNK: st.SearchStrategy[Body] = st.one_of(
    # Each of these fails a JSON parser differently: empty, bytes in no UTF encoding,
    # NULs (which read as UTF-32), nesting past Python's recursion limit.
    st.sampled_from(
        [
            Bytes(b""),
            Bytes(b"\xff\xfe\xfd"),
            Bytes(b"\x00" * 9),
            Doc(nested(1000)),
            Doc(nested(100_000)),
        ]
    ),
    st.binary(max_size=64).map(Bytes),
    st.one_of(HOSTILE, st.lists(ANY_JSON, max_size=3)).map(Doc),
)
"""Bodies that are not JSON at all, or JSON but not an object."""


def query_value(value: str) -> str:
    """`value` percent-encoded for a query string; a lone surrogate as the bytes
    UTF-8 would give it if it could (which a server must not take as text)."""
    return quote(value, safe="", errors="surrogatepass")


__all__ = [
    "ANY_JSON",
    "HOSTILE",
    "JUNK",
    "KEYS",
    "LONE_SURROGATES",
    "MUTATION_RATE",
    "NUL",
    "TEXT",
    "UNSTORABLE",
    "Body",
    "Bytes",
    "Doc",
    "FromSchema",
    "Json",
    "Raw",
    "Ref",
    "documents",
    "hostile",
    "mostly",
    "nested",
    "poisoned",
    "query_value",
    "render",
    "unstorable",
    "weighted",
]
