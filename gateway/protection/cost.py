"""`first` capped and the static cost of an operation, from its parsed document and the
request's variables, before anything runs.

The cost: 1 per field; a field with a `first` argument (a page) multiplies what it selects
by `first` (its schema default when not given); a list without one multiplies by the list
size (10); the list that is the page itself (`edges` of a connection) multiplies by 1.
Nested lists multiply. Introspection fields and `__typename` cost nothing. A fragment is
costed once per operation, whatever the number of its spreads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.protection.document import limit_error

FIRST = "first"


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    """The named type under the wrappers, and whether a list is among them."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        max_first: int,
        list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_first = max_first
        self.list_size = list_size
        self.errors: dict[int, GraphQLError] = {}
        self._fragment_costs: dict[tuple[str, bool], int] = {}
        self._walking: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        self.variables = {
            **{
                d.variable.name.value: int(d.default_value.value)
                for d in operation.variable_definitions or ()
                if isinstance(d.default_value, IntValueNode)
            },
            **self.variables,
        }
        return self.selections(root, operation.selection_set, page=False)

    def selections(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, *, page: bool
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page=page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(inner or parent, selection.selection_set, page=page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page=page)
        return total

    def fragment(self, name: str, *, page: bool) -> int:
        key = (name, page)
        if key in self._fragment_costs:
            return self._fragment_costs[key]
        definition = self.fragments.get(name)
        if definition is None or name in self._walking:
            return 0  # unknown or cyclic: the validation refused it already
        parent = self.schema.get_type(definition.type_condition.name.value)
        if parent is None:
            return 0
        self._walking.add(name)
        cost = self.selections(parent, definition.selection_set, page=page)
        self._walking.discard(name)
        self._fragment_costs[key] = cost
        return cost

    def field(self, parent: GraphQLNamedType, node: FieldNode, *, page: bool) -> int:
        if node.name.value.startswith("__"):
            return 0
        fields: Mapping[str, GraphQLField] = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:
            return 1
        named, is_list = _unwrap(definition.type)
        if FIRST in definition.args:
            multiplier, inner_page = self.first(node, definition), True
        elif is_list and not page:
            multiplier, inner_page = self.list_size, False
        else:
            multiplier, inner_page = 1, False
        if node.selection_set is None:
            return 1
        return 1 + multiplier * self.selections(named, node.selection_set, page=inner_page)

    def first(self, node: FieldNode, definition: GraphQLField) -> int:
        """The page size asked for (capped: above the cap is an error of the request)."""
        argument = next((a for a in node.arguments or () if a.name.value == FIRST), None)
        value: object = None
        if argument is not None:
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
        if not isinstance(value, int) or isinstance(value, bool):
            default = definition.args[FIRST].default_value
            value = default if isinstance(default, int) else self.list_size
        if value > self.max_first:
            at: Node = argument if argument is not None else node
            key = (node.alias or node.name).value
            self.errors[id(at)] = GraphQLError(
                f"{key}: first must be at most {self.max_first} (asked for {value})",
                [at],
                extensions={"code": "INVALID", "field": FIRST},
            )
            value = self.max_first
        return max(value, 0)


class CostLimit(SchemaExtension):
    """Refuses, before execution, a `first` above the cap and an operation whose cost is
    above the limit; reports the cost in the response's `extensions.cost`."""

    def __init__(self, max_cost: int, max_first: int, list_size: int) -> None:
        self.max_cost = max_cost
        self.max_first = max_first
        self.list_size = list_size
        self.cost: int | None = None

    @staticmethod
    def refusals(
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
        max_cost: int,
        max_first: int,
        list_size: int,
    ) -> tuple[int, list[GraphQLError]]:
        """The operation's cost, and the errors that refuse it (a `first` above the cap, a
        cost above the limit); also used for subscriptions over WebSocket."""
        estimate = Estimate(
            schema,
            {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            },
            variables,
            max_first,
            list_size,
        )
        cost = estimate.operation(operation)
        errors = list(estimate.errors.values())
        if not errors and cost > max_cost:
            errors.append(
                limit_error(
                    f"the operation costs {cost}; at most {max_cost} is allowed "
                    f"(1 per field, what a list selects times its `first` or "
                    f"{list_size}): ask for fewer fields or smaller pages",
                    "cost",
                    max_cost,
                    cost,
                    [operation],
                )
            )
        return cost, errors

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            get_operation_ast(document, context.operation_name) if document is not None else None
        )
        if context.result is None and document is not None and operation is not None:
            self.cost, errors = self.refusals(
                context.schema._schema,
                document,
                operation,
                context.variables or {},
                self.max_cost,
                self.max_first,
                self.list_size,
            )
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}
