"""How the schema executes a selection: graphql-core's executor, with a shorter way for a leaf.

A channel's customer-360 read answers with a few hundred scalar fields (ids, names, dates,
enums of the timeline's items and the accounts). graphql-core executes each of them the same
way as a field with a resolver: a ``Path``, a ``GraphQLResolveInfo``, the argument check, the
resolver and ``complete_value`` through the non-null wrapper to the leaf. For a field that
strawberry resolves by reading an attribute (no resolver of ours, no arguments, no directive,
a scalar or enum type) all of that comes to ``getattr`` and the type's ``coerce_output_value``.
:class:`LeafFastExecution` takes that way when the value is ready (not null under a non-null
type, no exception, coerced to a value) and hands every other case to graphql-core's own
``execute_field``, which gives the same answer or the same error with its path. With
middleware (a schema extension with a ``resolve`` hook) every field goes the usual way.

The same holds one level up: a value whose sub-selection is made only of such attribute fields
(an object, or a list of objects, down to its leaves: a page's edges and their nodes, a
profile's accounts) is completed by :meth:`LeafFastExecution.complete_value` in one walk,
without graphql-core's path, info and completion per item and field. At the first field that
needs graphql-core (a resolver, arguments, a directive, an abstract type or a type with
``is_type_of``, a null under non-null, a deferred fragment) the walk gives up and graphql-core
completes the value from the start: the walk only reads attributes, so reading them twice
changes nothing.

Measured by ``make bench`` (the comparison's server CPU per request at 10 and 100
interactions); tests/test_execution.py checks that the answers are the same as graphql-core's
own for every operation the API's clients send.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# a field of a type: its reader (one argument: the source), its leaf type and whether it is
# non-null; or None
_Leaf = tuple[Any, GraphQLLeafType, bool] | None


def _leaf(parent_type: GraphQLObjectType, field_name: str) -> _Leaf:
    """How to read ``field_name`` of ``parent_type`` the short way, or None."""
    attribute = _attribute(parent_type, field_name)
    if attribute is None:
        return None
    read, field_type = attribute
    non_null = isinstance(field_type, GraphQLNonNull)
    if non_null:
        field_type = field_type.of_type
    return (read, field_type, non_null) if is_leaf_type(field_type) else None


def _coerced(coerce: Any, non_null: bool, value: Any) -> Any:
    """A leaf's value as its type answers it, or Undefined when graphql-core must decide (a null
    under non-null, an error, a value the type does not coerce)."""
    if value is None:
        return Undefined if non_null else None
    if isinstance(value, Exception):
        return Undefined
    try:
        coerced = coerce(value)
    except Exception:
        return Undefined
    return Undefined if coerced is None or coerced is Undefined else coerced


def _attribute(parent_type: GraphQLObjectType, field_name: str) -> tuple[Any, Any] | None:
    """How to read an attribute field without arguments (a one-argument reader: ``attrgetter``
    of strawberry's attribute when its default resolver is ``getattr``, else that resolver)
    and its type; or None."""
    field_def = parent_type.fields.get(field_name)
    if field_def is None or field_def.args:
        return None
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is None or not getattr(definition, "is_basic_field", False):
        return None  # extensions or permissions: strawberry's resolver needs its info
    if getattr(definition, "default_resolver", None) is getattr:
        return attrgetter(definition.python_name), field_def.type
    return (lambda source: resolve(source, None)), field_def.type


# A step of an object's walk: (response name, reader or None for __typename, the type's name
# for __typename, leaf (coerce, non-null) or None, the field's type and selection)
_Step = tuple[str, Any, str, tuple[Any, bool] | None, Any, FieldDetailsList]


class LeafFastExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with attribute leaves read and coerced directly, and values
    whose whole sub-selection is attribute fields completed in one walk."""

    # (type, field name) -> _Leaf: a schema's types do not change once built
    _leaves: dict[tuple[GraphQLObjectType, str], _Leaf] = {}
    _attributes: dict[tuple[GraphQLObjectType, str], tuple[Any, Any] | None] = {}

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        # Tried for a nullable list or object only (graphql-core unwraps non-null and calls
        # this again with the inner type); leaves are graphql-core's (a resolver's leaf).
        if (
            isinstance(return_type, GraphQLList | GraphQLObjectType)
            and not (self.middleware_manager and self.middleware_manager.middlewares)
            and all(not d.node.directives for d in field_details_list)
        ):
            walked = self._walk(return_type, field_details_list, result)
            if walked is not Undefined:
                return walked
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _walk(self, type_: Any, field_details_list: FieldDetailsList, value: Any) -> Any:
        """``value`` completed as ``type_`` with the selection ``field_details_list``, or
        Undefined where graphql-core must decide."""
        if isinstance(value, Exception):
            return Undefined
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                return Undefined
            type_ = type_.of_type
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list | tuple):
                return Undefined
            item_type = type_.of_type
            out = []
            for item in value:
                done = self._walk(item_type, field_details_list, item)
                if done is Undefined:
                    return Undefined
                out.append(done)
            return out
        if isinstance(type_, GraphQLObjectType):
            if type_.is_type_of is not None:
                return Undefined
            grouped, deferred, _ = self.collect_subfields(type_, field_details_list)
            return Undefined if deferred else self._walk_object(type_, grouped, value)
        if is_leaf_type(type_):
            return _coerced(type_.coerce_output_value, False, value)
        return Undefined  # an interface or a union: graphql-core resolves the type

    def _plan(self, type_: GraphQLObjectType, grouped: GroupedFieldSet) -> list[_Step] | None:
        """The steps of walking ``type_`` with ``grouped`` (per execution: collect_subfields
        keeps ``grouped`` for it), or None when a field needs graphql-core."""
        key = (type_, id(grouped))
        plans = self.__dict__.setdefault("_plans", {})
        if key in plans:
            return plans[key][1]
        steps: list[_Step] = []
        walkable = True
        attributes = self._attributes
        for response_name, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                steps.append((response_name, None, type_.name, None, None, details))
                continue
            field_key = (type_, name)
            try:
                attribute = attributes[field_key]
            except KeyError:
                attribute = attributes[field_key] = _attribute(type_, name)
            if attribute is None or any(d.node.arguments or d.node.directives for d in details):
                walkable = False
                break
            read, field_type = attribute
            inner, non_null = field_type, False
            if isinstance(inner, GraphQLNonNull):
                inner, non_null = inner.of_type, True
            leaf = (inner.coerce_output_value, non_null) if is_leaf_type(inner) else None
            steps.append((response_name, read, name, leaf, field_type, details))
        plans[key] = (grouped, steps if walkable else None)  # ``grouped`` kept alive with its id
        return plans[key][1]

    def _walk_object(self, type_: GraphQLObjectType, grouped: GroupedFieldSet, value: Any) -> Any:
        steps = self._plan(type_, grouped)
        if steps is None:
            return Undefined
        out: dict[str, Any] = {}
        for response_name, read, name, leaf, field_type, details in steps:
            if read is None:
                out[response_name] = name  # __typename
                continue
            try:
                field_value = read(value)
                if leaf is None:
                    done = self._walk(field_type, details, field_value)
                else:
                    done = _coerced(*leaf, field_value)
            except Exception:
                return Undefined
            if done is Undefined:
                return Undefined
            out[response_name] = done
        return out

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager  # strawberry passes one, empty without resolve hooks
        if manager is not None and manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        usual: GroupedFieldSet = {}  # the fields graphql-core executes, in the answer's order
        results: dict[str, Any] = {}
        leaves = self._leaves
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            name = node.name.value
            key = (parent_type, name)
            try:
                leaf = leaves[key]
            except KeyError:
                leaf = leaves[key] = _leaf(parent_type, name)
            if leaf is not None and not node.arguments and not node.directives:
                value = _read(leaf, source_value)
                if value is not Undefined:
                    results[response_name] = value
                    continue
            usual[response_name] = details
            results[response_name] = None  # keeps the position; filled below
        if not usual:
            return results
        done = super().execute_fields(parent_type, source_value, path, usual, position_context)
        if isinstance(done, dict):
            return _merge(results, usual, done)

        async def merged() -> dict[str, Any]:
            return _merge(results, usual, await done)

        return merged()


def _merge(results: dict[str, Any], usual: dict[str, Any], done: dict[str, Any]) -> dict[str, Any]:
    """The leaves and graphql-core's answers in the selection's order (a field graphql-core
    leaves out of its answer is left out here too)."""
    for response_name in usual:
        if response_name in done:
            results[response_name] = done[response_name]
        else:
            del results[response_name]
    return results


def _read(leaf: tuple[Any, GraphQLLeafType, bool], source: Any) -> Any:
    """The leaf's answer, or Undefined when graphql-core must decide."""
    read, leaf_type, non_null = leaf
    try:
        value = read(source)
    except Exception:
        return Undefined
    return _coerced(leaf_type.coerce_output_value, non_null, value)
