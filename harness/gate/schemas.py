"""Deep comparison of two schemas, in the direction of the message that carries them.

Schemas are compared resolved, never by `$ref` string, so renaming a component changes nothing. Each
(base node, revision node, scope) triple is compared once: this ends cycles (a recursive schema meets
its own pair again) and reports a shared component once, at its first use. Locations are JSON pointers
in the revision (or, for what was removed, in the base), prefixed by the operation that reached them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.foundations.document import Node, Resolver
from harness.gate.changes import Change, Effect, Level, Scope, make_change

LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
WIDER_FORMATS = {("int32", "int64"), ("float", "double")}
COMPOSITIONS = ("oneOf", "anyOf", "allOf")
_WRAPPER_KEYS = {"allOf", "description", "title"}
_TEXTS = {"title": ("titre", "modifié"), "description": ("description", "modifiée"), "summary": ("résumé", "modifié")}


def edited(keyword: str, owner: str) -> str:
    """French for "the <keyword> of <owner> changed" (`description`, `title` or `summary`)."""
    noun, participle = _TEXTS[keyword]
    return f"{noun} {owner} {participle}"


Identity = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Side:
    """A node of the base (`in_base`: what was removed) or of the revision, to place a change in its file."""

    node: Node
    in_base: bool = False

    @classmethod
    def of_base(cls, node: Node) -> Side:
        return cls(node, in_base=True)


@dataclass(frozen=True)
class Locator:
    """Writes node addresses as `#/pointer`, or `file#/pointer` for another file of the contract."""

    roots: tuple[str, ...]
    """The URIs of the base and revision files; other files are written relative to `folder`."""
    folder: Path

    def __call__(self, node: Node) -> str:
        return f"#{node.pointer}" if node.uri in self.roots else node.address_from(self.folder)


@dataclass
class SchemaDiff:
    """Compares schemas of the base and the revision, appending `Change`s to `changes`."""

    base: Resolver
    revision: Resolver
    locate: Locator
    changes: list[Change] = field(default_factory=list)
    visited: set[tuple[Identity, Identity, Scope]] = field(default_factory=set)

    def compare(self, base: Node, revision: Node, scope: Scope, context: str) -> None:
        """Compare two schema nodes (either may be a `$ref`, or missing: a missing schema accepts all)."""
        b, r = self._deref(base, self.base), self._deref(revision, self.revision)
        key = (b.identity, r.identity, scope)
        if key in self.visited:
            return
        self.visited.add(key)
        ctx = _Pair(self, b, r, scope, context)
        if not ctx.types():
            return
        for check in (ctx.format, ctx.enum, ctx.nullable, ctx.bounds, ctx.pattern, ctx.default, ctx.flags):
            check()
        ctx.description()
        ctx.items()
        ctx.properties()
        ctx.additional_properties()
        ctx.compositions()
        ctx.negation()
        ctx.conditional()

    def equivalent(self, base: Node, revision: Node, scope: Scope) -> bool:
        """True when comparing the two schemas finds nothing but information-level changes."""
        trial = SchemaDiff(self.base, self.revision, self.locate, [], set(self.visited))
        trial.compare(base, revision, scope, "")
        return all(change.level is Level.INFO for change in trial.changes)

    def _deref(self, node: Node, resolver: Resolver) -> Node:
        """Resolve `$ref`s and unwrap `allOf: [one]` wrappers (a common way to describe a `$ref`)."""
        node = resolver.resolve(node)
        value = node.value
        while isinstance(value, dict) and set(value) <= _WRAPPER_KEYS and len(value.get("allOf") or []) == 1:
            node = resolver.resolve(node.child("allOf").child(0))
            value = node.value
        return node

    def emit(
        self,
        base_id: str,
        effect: Effect,
        scope: Scope,
        where: str,
        text: str,
        directional: bool = True,
        *,
        at: Side | None = None,
    ) -> None:
        """Record a change; `at` is the node it is about, in the base or the revision."""
        place = (self.base if at.in_base else self.revision).place(at.node) if at is not None else None
        self.changes.append(make_change(base_id, effect, scope, where, text, directional=directional, place=place))


@dataclass
class _Pair:
    """One resolved (base, revision) schema pair under comparison."""

    diff: SchemaDiff
    b_node: Node
    r_node: Node
    scope: Scope
    context: str

    @property
    def b(self) -> dict[str, Any]:
        return self.b_node.value if isinstance(self.b_node.value, dict) else {}

    @property
    def r(self) -> dict[str, Any]:
        return self.r_node.value if isinstance(self.r_node.value, dict) else {}

    def where(self, node: Node | None = None) -> str:
        address = self.diff.locate(node or self.r_node)
        return f"{self.context} {address}".strip()

    def emit(self, base_id: str, effect: Effect, text: str, node: Node | None = None, *, in_base: bool = False) -> None:
        """Record a change about `node` (the revision's schema by default; a base node for what was removed)."""
        at = Side(node or self.r_node, in_base)
        self.diff.emit(base_id, effect, self.scope, self.where(node), text, at=at)

    # --- keywords of the schema itself ------------------------------------------------------------

    def types(self) -> bool:
        """Compare `type`; False when the types are incompatible (nothing deeper is worth comparing)."""
        old, new = _types(self.b), _types(self.r)
        if old == new:
            return True
        if old is None:
            self.emit("type-restreint", Effect.TIGHTEN, f"type désormais imposé : {_show(new)}")
        elif new is None:
            self.emit("type-elargi", Effect.LOOSEN, f"type {_show(old)} n'est plus imposé")
        elif _covers(new, old) and not _covers(old, new):
            self.emit("type-elargi", Effect.LOOSEN, f"type élargi : {_show(old)} → {_show(new)}")
        elif _covers(old, new):
            self.emit("type-restreint", Effect.TIGHTEN, f"type restreint : {_show(old)} → {_show(new)}")
        else:
            self.emit("type-modifie", Effect.BREAKING, f"type modifié : {_show(old)} → {_show(new)}")
            return False
        return True

    def format(self) -> None:
        old, new = self.b.get("format"), self.r.get("format")
        if old == new:
            return
        if old is None:
            self.emit("format-ajoute", Effect.TIGHTEN, f"format {new} ajouté")
        elif new is None:
            self.emit("format-supprime", Effect.LOOSEN, f"format {old} supprimé", self.b_node, in_base=True)
        elif (old, new) in WIDER_FORMATS:
            self.emit("format-elargi", Effect.LOOSEN, f"format élargi : {old} → {new}")
        elif (new, old) in WIDER_FORMATS:
            self.emit("format-restreint", Effect.TIGHTEN, f"format restreint : {old} → {new}")
        else:
            self.emit("format-modifie", Effect.BREAKING, f"format modifié : {old} → {new}")

    def enum(self) -> None:
        old, new = _list_or_none(self.b.get("enum")), _list_or_none(self.r.get("enum"))
        if old is None and new is not None:
            self.emit("enum-ajoute", Effect.TIGHTEN, f"valeurs désormais limitées à {_values(new)}")
        elif old is not None and new is None:
            self.emit("enum-supprime", Effect.LOOSEN, "les valeurs ne sont plus limitées à une énumération")
        elif old is not None and new is not None:
            old_keys, new_keys = {_key(v): v for v in old}, {_key(v): v for v in new}
            added = [v for k, v in new_keys.items() if k not in old_keys]
            removed = [v for k, v in old_keys.items() if k not in new_keys]
            if added:
                self.emit(
                    "valeur-enum-ajoutee", Effect.LOOSEN, f"valeur(s) d'énumération ajoutée(s) : {_values(added)}"
                )
            if removed:
                text = f"valeur(s) d'énumération supprimée(s) : {_values(removed)}"
                self.emit("valeur-enum-supprimee", Effect.TIGHTEN, text)

    def nullable(self) -> None:
        old, new = _nullable(self.b), _nullable(self.r)
        if old != new:
            if new:
                self.emit("nullable-ajoute", Effect.LOOSEN, "la valeur null est désormais admise")
            else:
                self.emit("nullable-supprime", Effect.TIGHTEN, "la valeur null n'est plus admise")

    def bounds(self) -> None:
        for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            old, new = self.b.get(keyword), self.r.get(keyword)
            if old != new:
                tighter = _tighter_bound(keyword in LOWER_BOUNDS, old, new)
                self._bound(keyword, old, new, Effect.TIGHTEN if tighter else Effect.LOOSEN)
        for keyword in ("exclusiveMinimum", "exclusiveMaximum", "uniqueItems"):
            old, new = bool(self.b.get(keyword)), bool(self.r.get(keyword))
            if old != new:
                self._bound(keyword, old, new, Effect.TIGHTEN if new else Effect.LOOSEN)
        self._multiple_of()

    def _bound(self, keyword: str, old: Any, new: Any, effect: Effect) -> None:
        change = "borne-restreinte" if effect is Effect.TIGHTEN else "borne-elargie"
        self.emit(change, effect, f"{keyword} : {_bound_text(old)} → {_bound_text(new)}")

    def _multiple_of(self) -> None:
        old, new = self.b.get("multipleOf"), self.r.get("multipleOf")
        if old == new:
            return
        if old is None or (new is not None and _divides(old, new)):
            self._bound("multipleOf", old, new, Effect.TIGHTEN)
        elif new is None or _divides(new, old):
            self._bound("multipleOf", old, new, Effect.LOOSEN)
        else:
            self.emit("borne-modifiee", Effect.BREAKING, f"multipleOf : {old} → {new}")

    def pattern(self) -> None:
        old, new = self.b.get("pattern"), self.r.get("pattern")
        if old == new:
            return
        if old is None:
            self.emit("motif-ajoute", Effect.TIGHTEN, f"motif ajouté : {new}")
        elif new is None:
            self.emit("motif-supprime", Effect.LOOSEN, f"motif supprimé : {old}", self.b_node, in_base=True)
        else:
            self.emit("motif-modifie", Effect.BREAKING, f"motif modifié : {old} → {new}")

    def default(self) -> None:
        old, new = self.b.get("default"), self.r.get("default")
        if _key(old) == _key(new):
            return
        if old is None:
            self.emit("valeur-defaut-ajoutee", Effect.COMPATIBLE, f"valeur par défaut ajoutée : {_key(new)}")
        elif new is None:
            text = f"valeur par défaut {_key(old)} supprimée : la valeur d'un champ absent n'est plus définie"
            self.emit("valeur-defaut-supprimee", Effect.BREAKING, text)
        else:
            text = f"valeur par défaut modifiée : {_key(old)} → {_key(new)} (un champ absent change de sens)"
            self.emit("valeur-defaut-modifiee", Effect.BREAKING, text)

    def flags(self) -> None:
        """readOnly and writeOnly (each matters to one kind of message only), and deprecated."""
        requete = self.scope.kind == "requete"
        read_only = {True: Effect.TIGHTEN, False: Effect.LOOSEN} if requete else {}
        write_only = {} if requete else {True: Effect.LOOSEN}
        for keyword, name, effects in (
            ("readOnly", "lecture-seule", read_only),
            ("writeOnly", "ecriture-seule", write_only),
        ):
            new = bool(self.r.get(keyword))
            if bool(self.b.get(keyword)) != new:
                suffix, verb = ("ajoutee", "ajouté") if new else ("supprimee", "retiré")
                self.emit(f"{name}-{suffix}", effects.get(new, Effect.COMPATIBLE), f"{keyword} {verb}")
        if bool(self.b.get("deprecated")) != bool(self.r.get("deprecated")):
            if self.r.get("deprecated"):
                self.emit("schema-deprecie", Effect.COMPATIBLE, "schéma déclaré déprécié")
            else:
                self.emit("schema-plus-deprecie", Effect.INFO, "schéma n'est plus déprécié")

    def description(self) -> None:
        for keyword in ("title", "description"):
            if (self.b.get(keyword) or "") != (self.r.get(keyword) or ""):
                where, text = self.where(), edited(keyword, "du schéma")
                at = Side(self.r_node.child(keyword))
                self.diff.emit("description-modifiee", Effect.INFO, self.scope, where, text, directional=False, at=at)

    # --- nested schemas ---------------------------------------------------------------------------

    def items(self) -> None:
        if "items" in self.b or "items" in self.r:
            self.diff.compare(self.b_node.child("items"), self.r_node.child("items"), self.scope, self.context)

    def properties(self) -> None:
        old_props, new_props = _dict(self.b.get("properties")), _dict(self.r.get("properties"))
        old_req = self._required(self.b_node, self.diff.base)
        new_req = self._required(self.r_node, self.diff.revision)
        b_closed, r_closed = self.b.get("additionalProperties") is False, self.r.get("additionalProperties") is False
        for name in _union(old_props, new_props):
            b_prop = self.b_node.child("properties").child(name)
            r_prop = self.r_node.child("properties").child(name)
            if name not in new_props:
                self._property_removed(name, name in old_req, r_closed, b_prop)
            elif name not in old_props:
                self._property_added(name, name in new_req, b_closed, r_prop)
            else:
                self._required_changed(name, name in old_req, name in new_req, r_prop)
                self.diff.compare(b_prop, r_prop, self.scope, self.context)

    def _required(self, node: Node, resolver: Resolver) -> set[str]:
        """Required names that apply to this kind of message (readOnly ones not in requests, etc.)."""
        ignored = "readOnly" if self.scope.kind == "requete" else "writeOnly"
        props = node.child("properties")
        required = node.get("required") if isinstance(node.get("required"), list) else []
        return {n for n in required if not resolver.resolve(props.child(n)).get(ignored)}

    def _property_removed(self, name: str, required: bool, closed: bool, node: Node) -> None:
        if required:
            effect = Effect.BREAKING if closed else Effect.LOOSEN
        else:
            effect = Effect.TIGHTEN if closed else Effect.LOOSEN
        detail = " requise" if required else ""
        self.emit("propriete-supprimee", effect, f"propriété{detail} « {name} » supprimée", node, in_base=True)

    def _property_added(self, name: str, required: bool, was_closed: bool, node: Node) -> None:
        if required:
            effect = Effect.BREAKING if was_closed else Effect.TIGHTEN
            self.emit("propriete-requise-ajoutee", effect, f"propriété requise « {name} » ajoutée", node)
        else:
            effect = Effect.LOOSEN if was_closed else Effect.COMPATIBLE
            self.emit("propriete-ajoutee", effect, f"propriété facultative « {name} » ajoutée", node)

    def _required_changed(self, name: str, old: bool, new: bool, node: Node) -> None:
        if old and not new:
            self.emit("propriete-devenue-facultative", Effect.LOOSEN, f"« {name} » n'est plus requise", node)
        elif new and not old:
            self.emit("propriete-devenue-requise", Effect.TIGHTEN, f"« {name} » devient requise", node)

    def additional_properties(self) -> None:
        old, new = self.b.get("additionalProperties"), self.r.get("additionalProperties")
        if old is False and new is not False:
            self.emit(
                "proprietes-supplementaires-autorisees", Effect.LOOSEN, "propriétés non déclarées désormais admises"
            )
        elif new is False and old is not False:
            self.emit(
                "proprietes-supplementaires-interdites", Effect.TIGHTEN, "propriétés non déclarées désormais refusées"
            )
        elif isinstance(old, dict) or isinstance(new, dict):
            b_child, r_child = self.b_node.child("additionalProperties"), self.r_node.child("additionalProperties")
            self.diff.compare(b_child, r_child, self.scope, self.context)

    def compositions(self) -> None:
        for keyword in COMPOSITIONS:
            old, new = self.b.get(keyword), self.r.get(keyword)
            if old is None and new is None:
                continue
            if old is None:
                self.emit("composition-ajoutee", Effect.TIGHTEN, f"{keyword} ajouté")
            elif new is None:
                self.emit("composition-supprimee", Effect.LOOSEN, f"{keyword} supprimé", self.b_node, in_base=True)
            else:
                self._branches(keyword)
        b_disc, r_disc = self.b.get("discriminator") or {}, self.r.get("discriminator") or {}
        if b_disc.get("propertyName") != r_disc.get("propertyName"):
            text = f"discriminant modifié : {b_disc.get('propertyName')} → {r_disc.get('propertyName')}"
            self.emit("discriminant-modifie", Effect.BREAKING, text)

    def _branches(self, keyword: str) -> None:
        """Pair equivalent branches, then the rest by position if as many remain on each side."""
        olds, news = list(self._branch_nodes(self.b_node, keyword)), list(self._branch_nodes(self.r_node, keyword))
        pairs: list[tuple[Node, Node]] = []
        for old in list(olds):
            match = next((new for new in news if self.diff.equivalent(old, new, self.scope)), None)
            if match is not None:
                olds.remove(old)
                news.remove(match)
                pairs.append((old, match))
        if len(olds) == len(news):
            pairs += list(zip(olds, news, strict=True))
            olds, news = [], []
        widening = keyword != "allOf"
        for new in news:
            effect = Effect.LOOSEN if widening else Effect.TIGHTEN
            self.emit("branche-ajoutee", effect, f"branche ajoutée à {keyword}", new)
        for old in olds:
            effect = Effect.TIGHTEN if widening else Effect.LOOSEN
            self.emit("branche-supprimee", effect, f"branche supprimée de {keyword}", old, in_base=True)
        for old, new in pairs:
            self.diff.compare(old, new, self.scope, self.context)

    @staticmethod
    def _branch_nodes(node: Node, keyword: str) -> Iterator[Node]:
        holder = node.child(keyword)
        return (holder.child(i) for i in range(len(holder.value or [])))

    def negation(self) -> None:
        if "not" not in self.b and "not" not in self.r:
            return
        b_not, r_not = self.b_node.child("not"), self.r_node.child("not")
        if not self.diff.equivalent(b_not, r_not, self.scope):
            self.emit("negation-modifiee", Effect.BREAKING, "schéma « not » modifié")

    def conditional(self) -> None:
        """JSON Schema's `if`/`then`/`else` (the archive schemas, draft 2020-12), compared as a whole."""
        old, new = ([schema.get(key) for key in CONDITIONAL_KEYS] for schema in (self.b, self.r))
        if old != new:
            text = "condition if/then/else modifiée (non comparée en détail)"
            self.emit("conditionnel-modifie", Effect.BREAKING, text)


# --- small pure helpers ---------------------------------------------------------------------------


CONDITIONAL_KEYS = ("if", "then", "else")


def _types(schema: dict[str, Any]) -> frozenset[str] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    return frozenset(str(t) for t in (kind if isinstance(kind, list) else [kind]))


def _covers(wide: frozenset[str], narrow: frozenset[str]) -> bool:
    """Every value of a `narrow` type is valid for `wide` (an integer is a number)."""
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _show(types: frozenset[str] | None) -> str:
    return "|".join(sorted(types or []))


def _nullable(schema: dict[str, Any]) -> bool:
    return bool(schema.get("nullable") or schema.get("x-nullable"))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _values(values: list[Any]) -> str:
    return ", ".join(_key(v) for v in values)


def _tighter_bound(lower: bool, old: Any, new: Any) -> bool:
    """A bound added, raised (lower bound) or lowered (upper bound) tightens."""
    if old is None or new is None:
        return old is None
    if not all(isinstance(v, int | float) for v in (old, new)):
        return True  # not numbers: assume the worst for a reader of the old contract
    return new > old if lower else new < old


def _bound_text(value: Any) -> str:
    return "aucune" if value is None else str(value)


def _divides(divisor: Any, value: Any) -> bool:
    try:
        ratio = float(value) / float(divisor)
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return abs(ratio - round(ratio)) < 1e-9


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list_or_none(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _union(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    return [*first, *(name for name in second if name not in first)]
